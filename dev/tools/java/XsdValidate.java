import java.io.File;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import javax.xml.validation.Validator;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXParseException;

/**
 * Validates XML files against one XML schema with the JDK's own validator, no build and no jars:
 *
 *   java XsdValidate.java <schema.xsd> <file.xml>...
 *
 * Prints "### VALID <file>" or "### INVALID <file>" per file, each followed by every warning and error
 * with its line and column; exits 0 only when every file is valid, 1 when one is not, 2 on bad usage.
 * External entities and DTDs are refused, so a file cannot make the validator read anything else.
 */
public class XsdValidate {
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: java XsdValidate.java <schema.xsd> <file.xml>...");
      System.exit(2);
    }
    SchemaFactory factory = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
    factory.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
    factory.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "file");
    Schema schema = factory.newSchema(new File(args[0]));

    boolean allValid = true;
    for (int index = 1; index < args.length; index++) {
      List<String> problems = new ArrayList<>();
      Validator validator = schema.newValidator();
      validator.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
      validator.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
      validator.setErrorHandler(new ErrorHandler() {
        public void warning(SAXParseException problem) { problems.add(describe("warning", problem)); }
        public void error(SAXParseException problem) { problems.add(describe("error", problem)); }
        public void fatalError(SAXParseException problem) { problems.add(describe("fatal", problem)); }
      });
      try {
        validator.validate(new StreamSource(new File(args[index])));
      } catch (SAXParseException fatal) {
        // already reported through the handler
      }
      boolean valid = problems.stream().noneMatch((line) -> !line.startsWith("warning"));
      allValid &= valid;
      System.out.println("### " + (valid ? "VALID " : "INVALID ") + args[index]);
      problems.forEach(System.out::println);
    }
    System.exit(allValid ? 0 : 1);
  }

  private static String describe(String level, SAXParseException problem) {
    return level + " " + problem.getLineNumber() + ":" + problem.getColumnNumber() + " " + problem.getMessage();
  }
}

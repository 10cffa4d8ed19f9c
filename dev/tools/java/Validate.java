import java.io.File;
import java.nio.charset.StandardCharsets;
import java.io.PrintStream;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.mustangproject.validator.ZUGFeRDValidator;

/**
 * The Mustang validator over e-invoices (XRechnung/CII XML or Factur-X PDF/A-3), one JVM for many files.
 *
 *   java -cp "<validator jars>/*" Validate.java <file>...       exit 0 only when every file was completely valid
 *   java -cp "<validator jars>/*" Validate.java --text <pdf>... each PDF's text, as PDFBox extracts it
 *
 * Each validated file gets a header line "### VALID <path>" or "### INVALID <path>" followed by Mustang's
 * XML report, each text a line "### TEXT <path>", so a caller can tell the files apart.
 */
public class Validate {
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    if (args.length >= 2 && args[0].equals("--text")) {
      for (int index = 1; index < args.length; index++) {
        out.println("### TEXT " + args[index]);
        try (PDDocument document = Loader.loadPDF(new File(args[index]))) {
          out.print(new PDFTextStripper().getText(document));
        }
      }
      return;
    }
    if (args.length == 0) {
      System.err.println("usage: Validate.java <file>... | --text <pdf>...");
      System.exit(2);
    }
    boolean allValid = true;
    for (String path : args) {
      ZUGFeRDValidator validator = new ZUGFeRDValidator();
      String report = validator.validate(path);
      boolean valid = validator.wasCompletelyValid();
      allValid &= valid;
      out.println("### " + (valid ? "VALID " : "INVALID ") + path);
      out.println(report);
    }
    System.exit(allValid ? 0 : 1);
  }
}

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.temporal.internal.testservice.GRPCServerHelper;
import io.temporal.internal.testservice.TestServicesStarter;

/**
 * Temporal's time-skipping test server with its clock starting at a given instant, so that a workflow test
 * can live through dates of the past (the handbook's examples are dated 2020). The stock launcher starts at
 * the host's clock and takes the port only.
 *
 * Usage: java -cp "<test-server lib>/*" ClockedTestServer.java <epoch milliseconds> <port> [--enable-time-skipping]
 * (the arguments after the first are the stock launcher's: time skipping stays locked until a client unlocks it)
 */
public class ClockedTestServer {
  public static void main(String[] args) throws Exception {
    long initialTimeMillis = Long.parseLong(args[0]);
    int port = Integer.parseInt(args[1]);
    boolean lockTimeSkipping = !java.util.Arrays.asList(args).contains("--enable-time-skipping");
    TestServicesStarter services = new TestServicesStarter(lockTimeSkipping, initialTimeMillis);
    ServerBuilder<?> builder = Grpc.newServerBuilderForPort(port, InsecureServerCredentials.create());
    GRPCServerHelper.registerServicesAndHealthChecks(services.getServices(), builder);
    Server server = builder.build().start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdownNow();
      services.close();
    }));
    server.awaitTermination();
  }
}

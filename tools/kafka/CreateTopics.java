// Makes the topics named on the command line that the broker lacks, each with the broker's
// default partition count, and waits until every partition has a leader. Run by
// `tools/brokers.sh kafka-topics BOOTSTRAP TOPIC...` before any app publishes: a topic that
// a first publish makes is not ready before Dapr's Kafka client gives up on it. One JVM for
// every topic (Kafka's kafka-topics makes one a run).
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;

public class CreateTopics {
    private static final long TIMEOUT_MS = 60_000;

    public static void main(String[] args) throws Exception {
        List<String> topics = Arrays.asList(args).subList(1, args.length);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]))) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = topics.stream()
                .filter(topic -> !existing.contains(topic))
                .map(topic -> new NewTopic(topic, Optional.empty(), Optional.empty()))
                .toList();
            admin.createTopics(missing).all().get();
            long deadline = System.currentTimeMillis() + TIMEOUT_MS;
            while (!led(admin, topics)) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("topics without a leader after " + TIMEOUT_MS + " ms: " + topics);
                }
                Thread.sleep(100);
            }
        }
    }

    /** True once the broker describes every topic and each partition has a leader. */
    private static boolean led(Admin admin, List<String> topics) throws InterruptedException {
        try {
            Map<String, TopicDescription> described = admin.describeTopics(topics).allTopicNames().get();
            return described.values().stream()
                .allMatch(topic -> topic.partitions().stream().allMatch(partition -> partition.leader() != null));
        } catch (ExecutionException notYetKnown) {
            return false;
        }
    }
}

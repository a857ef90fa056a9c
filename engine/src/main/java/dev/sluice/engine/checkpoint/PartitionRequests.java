package dev.sluice.engine.checkpoint;

import java.util.List;

import org.springframework.batch.core.partition.PartitionHandler;
import org.springframework.batch.integration.partition.MessageChannelPartitionHandler;
import org.springframework.batch.integration.partition.StepExecutionRequest;
import org.springframework.batch.integration.partition.StepExecutionRequestHandler;
import org.springframework.integration.core.MessagingTemplate;
import org.springframework.messaging.Message;
import org.springframework.messaging.MessageHandler;
import org.springframework.messaging.support.MessageBuilder;

/**
 * Where Spring Batch Integration meets the channel of {@code workers: remote}: the requests a runner sends (one per
 * partition's step execution, by its {@link MessageChannelPartitionHandler}, which then waits on the job repository)
 * and a worker handles (by its {@link StepExecutionRequestHandler}, running the execution as a {@link
 * RemotePartition}). The channel itself, its store and its listener, are {@code fleet}'s; only messages cross.
 */
public final class PartitionRequests {

    private static final long POLL_MILLIS = 1000;

    private PartitionRequests() {}

    /** The sender of a run's partitions: each request given to {@code run}, then the repository polled every second. */
    static PartitionHandler sender(CheckpointStore store, Remote.Run run, int gridSize) {
        MessageChannelPartitionHandler handler = new MessageChannelPartitionHandler();
        MessagingTemplate template = new MessagingTemplate();
        template.setDefaultChannel((message, timeout) -> {
            run.send(message);
            return true;
        });
        handler.setMessagingOperations(template);
        handler.setStepName(RemotePartition.STEP);
        handler.setJobRepository(store.repository());
        handler.setPollInterval(POLL_MILLIS);
        handler.setGridSize(gridSize);
        try {
            handler.afterPropertiesSet();
        } catch (Exception e) {
            throw new IllegalStateException("cannot set up the partitions' sender: " + e.getMessage(), e);
        }
        return handler;
    }

    /** A request for the partition whose step execution is {@code stepExecutionId} (one sent again). */
    public static Message<?> request(long stepExecutionId) {
        return MessageBuilder.withPayload(new StepExecutionRequest(RemotePartition.STEP, stepExecutionId))
                .build();
    }

    /** The step execution a message asks to run, or null if it is not a partition's request. */
    public static Long stepExecutionId(Message<?> message) {
        return message.getPayload() instanceof StepExecutionRequest r ? r.getStepExecutionId() : null;
    }

    /** The classes a request's message holds: the only ones read back from the channel's serialized messages. */
    public static List<String> classes() {
        return List.of(
                StepExecutionRequest.class.getName(),
                "org.springframework.messaging.*",
                "org.springframework.integration.*",
                "java.util.*",
                "java.lang.*");
    }

    /** A worker's handling of requests: each runs its step execution as {@code step}; anything else is ignored. */
    public static MessageHandler handler(CheckpointStore store, RemotePartition step) {
        StepExecutionRequestHandler requests = new StepExecutionRequestHandler();
        requests.setJobRepository(store.repository());
        requests.setStepLocator(name -> RemotePartition.STEP.equals(name) ? step : null);
        return message -> {
            if (message.getPayload() instanceof StepExecutionRequest r) {
                requests.handle(r);
            }
        };
    }
}

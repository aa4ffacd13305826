package io.hongbao.bench;

import java.io.IOException;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * A sink that marks {@link Probe#out()} for every record, then hands it to the real sink: the end of the clock.
 * Only for plain sinks (no committer, no writer state): the interaction count upsert and the discarding sink.
 */
public final class TimedSink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;

    private final Sink<T> delegate;
    private final String run;

    public TimedSink(Sink<T> delegate, String run) {
        this.delegate = delegate;
        this.run = run;
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) throws IOException {
        SinkWriter<T> writer = delegate.createWriter(context);
        Probe probe = Probe.named(run);
        return new SinkWriter<>() {
            @Override
            public void write(T element, Context ctx) throws IOException, InterruptedException {
                probe.out();
                writer.write(element, ctx);
            }

            @Override
            public void flush(boolean endOfInput) throws IOException, InterruptedException {
                writer.flush(endOfInput);
            }

            @Override
            public void close() throws Exception {
                writer.close();
            }
        };
    }
}

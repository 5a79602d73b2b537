package dev.edgesam

import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertDoesNotThrow

/** 9. initLogging can be called more than once (later calls only change the level). */
class LoggingTest {
    @Test
    fun `initLogging twice is fine`() {
        assertDoesNotThrow {
            initLogging(LogLevel.DEBUG)
            initLogging(LogLevel.DEBUG)
            // Something that logs at debug level, to stderr on the desktop.
            Fixtures.model.segment(Fixtures.embedding, Fixtures.prompts[0])
            // Keep the rest of the run quiet (the tests share one JVM).
            initLogging(LogLevel.WARN)
        }
    }
}

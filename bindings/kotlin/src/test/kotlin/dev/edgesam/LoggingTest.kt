package dev.edgesam

import com.sun.jna.Library
import com.sun.jna.Native
import java.io.File
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * 9. initLogging can be called more than once: later calls change the level. On the desktop the
 * records go to standard error, which the test reads back.
 */
class LoggingTest {
    private interface LibC : Library {
        fun open(path: String, flags: Int, mode: Int): Int
        fun dup(fd: Int): Int
        fun dup2(from: Int, to: Int): Int
        fun close(fd: Int): Int
    }

    private val libc: LibC = Native.load("c", LibC::class.java)

    /** What the process writes to file descriptor 2 (where the library logs) while [body] runs. */
    private fun standardError(body: () -> Unit): String {
        val capture = File.createTempFile("edgesam-stderr", ".txt")
        try {
            val fd = libc.open(capture.path, O_WRONLY, 0)
            check(fd >= 0) { "cannot open ${capture.path}" }
            val saved = libc.dup(2)
            libc.dup2(fd, 2)
            libc.close(fd)
            try {
                body()
            } finally {
                libc.dup2(saved, 2)
                libc.close(saved)
            }
            return capture.readText()
        } finally {
            capture.delete()
        }
    }

    @Test
    fun `a second initLogging changes the level`() {
        val model = Fixtures.model
        val embedding = Fixtures.embedding
        try {
            val debug = standardError {
                initLogging(LogLevel.INFO)
                initLogging(LogLevel.DEBUG)
                model.segment(embedding, Fixtures.prompts[0])
            }
            assertTrue(debug.contains("[edgesam DEBUG]"), "no debug record after initLogging(DEBUG) twice: '$debug'")
            val off = standardError {
                initLogging(LogLevel.OFF)
                model.segment(embedding, Fixtures.prompts[0])
            }
            assertFalse(off.contains("[edgesam"), "records after initLogging(OFF): '$off'")
        } finally {
            // Keep the rest of the run quiet (the tests share one JVM).
            initLogging(LogLevel.WARN)
        }
    }

    private companion object {
        const val O_WRONLY = 1
    }
}

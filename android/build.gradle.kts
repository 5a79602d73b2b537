plugins {
    id("com.android.library") version "8.7.3" apply false
    // The Kotlin of bindings/kotlin/pom.xml, so the JVM tests and the AAR compile the same way.
    id("org.jetbrains.kotlin.android") version "2.2.21" apply false
}

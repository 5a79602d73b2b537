// The Android library (AAR) of edgesam. Its Kotlin is the generated bindings and their plain-Kotlin
// conveniences from bindings/kotlin (one copy, shared with the JVM tests), plus the Bitmap layer
// in edgesam/src/main/kotlin; the .so files come from scripts/build-android.sh.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "edgesam-android"
include(":edgesam")

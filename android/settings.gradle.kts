// The Android build of edgesam: the library module (AAR) and the Jetpack Compose demo, which is
// built against the module itself (not a published AAR), so a change to the library is in the next
// demo build. The AAR's Kotlin is the generated bindings and their plain-Kotlin conveniences from
// bindings/kotlin (one copy, shared with the JVM tests), plus the Bitmap layer in
// edgesam/src/main/kotlin; its .so files come from `cargo xtask build-android`.
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
include(":edgesam", ":demo")

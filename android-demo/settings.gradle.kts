// The Jetpack Compose demo, built against the edgesam library module itself (not a published
// AAR), so a change to the library is in the next demo build.
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
rootProject.name = "edgesam-demo"
include(":app", ":edgesam")
project(":edgesam").projectDir = file("../android/edgesam")

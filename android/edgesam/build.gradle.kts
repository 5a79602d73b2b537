// The edgesam AAR: arm64-v8a, armeabi-v7a and x86_64 libraries from `cargo xtask build-android`,
// the UniFFI-generated Kotlin (JNA), and the Bitmap conveniences.
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

// Where `cargo xtask build-android` puts libedgesam_ffi.so, one folder per ABI.
val rustJniLibs = file("build/rustJniLibs")

android {
    namespace = "dev.edgesam"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    sourceSets.getByName("main") {
        // The generated bindings and the plain-Kotlin conveniences are not copied: they are the
        // files the JVM suite (bindings/kotlin) compiles and tests.
        kotlin.srcDirs("src/main/kotlin", "../../bindings/kotlin/src/main/kotlin")
        jniLibs.srcDir(rustJniLibs)
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

// An AAR without the native library would only fail at the first call on a phone.
tasks.named("preBuild") {
    doFirst {
        val missing = listOf("arm64-v8a", "armeabi-v7a", "x86_64")
            .filterNot { rustJniLibs.resolve("$it/libedgesam_ffi.so").isFile }
        check(missing.isEmpty()) {
            "libedgesam_ffi.so is missing for $missing: run cargo xtask build-android first"
        }
    }
}

dependencies {
    // The generated bindings' public types use JNA and coroutines, so apps see both. The @aar
    // artifact carries JNA's own libjnidispatch.so for each ABI.
    api("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")
    api(libs.kotlinx.coroutines.android)
}

//! Routes the library's `log` records to os_log on Apple platforms, logcat on Android, and
//! standard error elsewhere (desktop tests, Python).

/// How much the library logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevel> for log::LevelFilter {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Off => log::LevelFilter::Off,
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

/// Call once at app start (later calls only change the level).
#[uniffi::export]
pub fn init_logging(level: LogLevel) {
    let filter: log::LevelFilter = level.into();
    install(filter);
    log::set_max_level(filter);
}

#[cfg(target_os = "android")]
fn install(filter: log::LevelFilter) {
    android_logger::init_once(
        android_logger::Config::default()
            .with_max_level(filter)
            .with_tag("edgesam"),
    );
}

#[cfg(target_vendor = "apple")]
fn install(filter: log::LevelFilter) {
    // Fails only when a logger is already installed, which is fine.
    let _ = oslog::OsLogger::new("dev.edgesam")
        .level_filter(filter)
        .init();
}

#[cfg(not(any(target_os = "android", target_vendor = "apple")))]
fn install(_filter: log::LevelFilter) {
    struct StderrLogger;
    impl log::Log for StderrLogger {
        fn enabled(&self, metadata: &log::Metadata) -> bool {
            metadata.level() <= log::max_level()
        }
        fn log(&self, record: &log::Record) {
            if self.enabled(record.metadata()) {
                eprintln!("[edgesam {}] {}", record.level(), record.args());
            }
        }
        fn flush(&self) {}
    }
    static LOGGER: StderrLogger = StderrLogger;
    // Fails only when a logger is already installed, which is fine.
    let _ = log::set_logger(&LOGGER);
}

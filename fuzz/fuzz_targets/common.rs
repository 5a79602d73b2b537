//! What every target shares. libfuzzer-sys's panic hook aborts at the first panic, even one the
//! library catches on purpose (libjpeg reports a broken file by unwinding out of its C code, and
//! the decoder turns that into `BadImage`). So the hook only remembers the message, and a panic
//! that escapes the library is reported and aborts here.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

thread_local! {
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Replaces the aborting hook (call once, from the target's `init`).
pub fn remember_panics() {
    panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|last| *last.borrow_mut() = info.to_string());
    }));
}

/// Runs one input; a panic escaping `body` is a crash.
pub fn run(body: impl FnOnce()) {
    if panic::catch_unwind(AssertUnwindSafe(body)).is_err() {
        LAST_PANIC.with(|last| eprintln!("panic escaped the library: {}", last.borrow()));
        std::process::abort();
    }
}

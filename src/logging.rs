//! The log: lines on standard error, filtered by `RUST_LOG`. Every field value and message is
//! written with its control and text-direction characters escaped, so an outside string (a
//! user name typed at the login form, a scanned code, a client id) can neither start a forged
//! line nor hide or reorder what follows it.

use tracing_subscriber::field::MakeExt as _;
use tracing_subscriber::fmt::format::{debug_fn, Writer};
use tracing_subscriber::EnvFilter;

/// Starts the log with `default_filter` unless `RUST_LOG` says otherwise.
pub fn init(default_filter: &str) {
    use std::io::IsTerminal;
    // Colour codes only for a person at a terminal; a journal or a file gets plain text.
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_ansi(colour)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .fmt_fields(escaped_fields())
        .init();
}

/// Fields as `name=value`, the message bare, each escaped.
pub fn escaped_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + Clone {
    debug_fn(
        |w: &mut Writer<'_>, field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
            if field.name() != "message" {
                write!(w, "{}=", field.name())?;
            }
            escape(w, &format!("{value:?}"))
        },
    )
    .delimited(" ")
}

/// Writes `text` with control characters (line breaks, escape, NUL) and the characters that
/// change text direction written as escapes.
fn escape(w: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    for c in text.chars() {
        let direction = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || direction {
            write!(w, "{}", c.escape_unicode())?;
        } else {
            w.write_char(c)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_outside_string_cannot_forge_a_line_nor_hide_what_follows() {
        let buffer = Buffer::default();
        let out = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || out.clone())
            .fmt_fields(escaped_fields())
            .finish();
        let user = "eve\n2026-11-30T10:00:00Z  INFO floorctl: supervisor sue logged in";
        let code = "A-01\u{0}\u{1b}[2J\u{202e}tpyrced";
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(%user, code, "login refused");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains(r"eve\u{a}2026"), "{text}");
        assert!(
            !text
                .trim_end()
                .chars()
                .any(|c| c.is_control() || c == '\u{202e}'),
            "{text:?}"
        );
        assert!(text.contains("login refused"), "{text}");
    }
}

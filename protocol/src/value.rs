//! Signal types and how their values sit in 16-bit registers: word and byte order, scaling.

use std::fmt;

use serde::Deserialize;

/// The type of one signal element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum SignalType {
    /// One bit of a coil or discrete input table.
    Bool,
    /// One bit inside a 16-bit register (the signal's `bit` gives which, 0 = least significant).
    Bit,
    /// Unsigned 16-bit register.
    U16,
    /// Signed (two's complement) 16-bit register.
    I16,
    /// Unsigned 32-bit value in two registers.
    U32,
    /// Signed 32-bit value in two registers.
    I32,
    /// IEEE 754 single-precision float in two registers.
    F32,
    /// ASCII text of up to n characters, two per register, NUL- or space-padded.
    String(u16),
}

impl TryFrom<String> for SignalType {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Ok(match s.as_str() {
            "bool" => SignalType::Bool,
            "bit" => SignalType::Bit,
            "u16" => SignalType::U16,
            "i16" => SignalType::I16,
            "u32" => SignalType::U32,
            "i32" => SignalType::I32,
            "f32" => SignalType::F32,
            other => match other
                .strip_prefix("string(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.parse::<u16>().ok())
            {
                Some(n) if (1..=250).contains(&n) => SignalType::String(n),
                _ => {
                    return Err(format!(
                        "unknown type `{other}`: use bool, bit, u16, i16, u32, i32, f32 or string(n) with n from 1 to 250"
                    ))
                }
            },
        })
    }
}

impl fmt::Display for SignalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignalType::Bool => f.write_str("bool"),
            SignalType::Bit => f.write_str("bit"),
            SignalType::U16 => f.write_str("u16"),
            SignalType::I16 => f.write_str("i16"),
            SignalType::U32 => f.write_str("u32"),
            SignalType::I32 => f.write_str("i32"),
            SignalType::F32 => f.write_str("f32"),
            SignalType::String(n) => write!(f, "string({n})"),
        }
    }
}

impl SignalType {
    /// Registers (or bits, for `bool`) one element occupies; `bit` elements share a register.
    pub fn width(self) -> u16 {
        match self {
            SignalType::Bool | SignalType::Bit | SignalType::U16 | SignalType::I16 => 1,
            SignalType::U32 | SignalType::I32 | SignalType::F32 => 2,
            SignalType::String(n) => n.div_ceil(2),
        }
    }

    /// Whether values are numbers that scale and offset apply to.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            SignalType::U16 | SignalType::I16 | SignalType::U32 | SignalType::I32 | SignalType::F32
        )
    }

    /// Whether the raw value is an unsigned integer (what counters and ids must be).
    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            SignalType::Bool | SignalType::Bit | SignalType::U16 | SignalType::U32
        )
    }
}

/// Byte order of a 32-bit value across two registers, A the most significant byte.
/// `BADC` and `DCBA` also swap the two bytes of 16-bit values and of string registers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum WordOrder {
    /// Big-endian: high word first, high byte first (the Modbus convention).
    #[default]
    ABCD,
    /// Low word first, high byte first ("word swap").
    CDAB,
    /// High word first, bytes swapped in each word ("byte swap").
    BADC,
    /// Little-endian: low word first, low byte first.
    DCBA,
}

impl WordOrder {
    fn swaps_bytes(self) -> bool {
        matches!(self, WordOrder::BADC | WordOrder::DCBA)
    }

    fn swaps_words(self) -> bool {
        matches!(self, WordOrder::CDAB | WordOrder::DCBA)
    }

    /// A 16-bit register as sent to its value.
    pub fn word_in(self, w: u16) -> u16 {
        if self.swaps_bytes() {
            w.swap_bytes()
        } else {
            w
        }
    }

    /// Two registers as sent to the 32-bit pattern they carry.
    pub fn join(self, w: [u16; 2]) -> u32 {
        let [a, b] = w.map(|x| self.word_in(x));
        let (hi, lo) = if self.swaps_words() { (b, a) } else { (a, b) };
        (u32::from(hi) << 16) | u32::from(lo)
    }

    /// A 32-bit pattern to the two registers that carry it.
    pub fn split(self, v: u32) -> [u16; 2] {
        let (hi, lo) = ((v >> 16) as u16, v as u16);
        let pair = if self.swaps_words() {
            [lo, hi]
        } else {
            [hi, lo]
        };
        pair.map(|x| self.word_in(x))
    }
}

/// A signal element's value in engineering terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A bit.
    Bool(bool),
    /// A number, after scale and offset.
    Number(f64),
    /// Text.
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// Why a value cannot be written to a signal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// A number outside what the type holds once scaled.
    #[error("{value} is outside what a {ty} holds (raw {min} to {max}, after scale and offset)")]
    OutOfRange {
        /// Value asked for.
        value: f64,
        /// Type.
        ty: SignalType,
        /// Least raw value.
        min: f64,
        /// Greatest raw value.
        max: f64,
    },
    /// A value of the wrong kind (text for a number, ...).
    #[error("a {given} value does not fit a {ty} signal")]
    WrongKind {
        /// What was given.
        given: &'static str,
        /// Type.
        ty: SignalType,
    },
    /// Text longer than the signal or not ASCII.
    #[error("text must be ASCII and at most {0} characters")]
    Text(u16),
}

/// Decodes one element's registers (already in wire order) into its raw 32-bit pattern
/// (numbers) or text.
pub(crate) fn decode_raw(ty: SignalType, order: WordOrder, words: &[u16]) -> u32 {
    match ty {
        SignalType::U16 | SignalType::I16 => u32::from(order.word_in(words[0])),
        SignalType::U32 | SignalType::I32 | SignalType::F32 => order.join([words[0], words[1]]),
        SignalType::Bool | SignalType::Bit | SignalType::String(_) => u32::from(words[0]),
    }
}

/// The engineering value of a raw numeric pattern.
pub(crate) fn to_number(ty: SignalType, raw: u32, scale: f64, offset: f64) -> f64 {
    let n = match ty {
        SignalType::I16 => f64::from(raw as u16 as i16),
        SignalType::I32 => f64::from(raw as i32),
        SignalType::F32 => f64::from(f32::from_bits(raw)),
        _ => f64::from(raw),
    };
    n * scale + offset
}

/// The raw pattern for an engineering value, or why it does not fit.
pub(crate) fn from_number(
    ty: SignalType,
    value: f64,
    scale: f64,
    offset: f64,
) -> Result<u32, ValueError> {
    let raw = (value - offset) / scale;
    let (min, max) = match ty {
        SignalType::U16 => (0.0, f64::from(u16::MAX)),
        SignalType::I16 => (f64::from(i16::MIN), f64::from(i16::MAX)),
        SignalType::U32 => (0.0, f64::from(u32::MAX)),
        SignalType::I32 => (f64::from(i32::MIN), f64::from(i32::MAX)),
        SignalType::F32 => (f64::from(f32::MIN), f64::from(f32::MAX)),
        _ => {
            return Err(ValueError::WrongKind {
                given: "number",
                ty,
            })
        }
    };
    if !raw.is_finite() || raw.round() < min || raw.round() > max {
        return Err(ValueError::OutOfRange {
            value,
            ty,
            min,
            max,
        });
    }
    Ok(match ty {
        SignalType::I16 => u32::from(raw.round() as i16 as u16),
        SignalType::I32 => raw.round() as i32 as u32,
        SignalType::F32 => (raw as f32).to_bits(),
        _ => raw.round() as u32,
    })
}

/// Text from string registers.
pub(crate) fn to_text(order: WordOrder, words: &[u16]) -> String {
    let bytes: Vec<u8> = words
        .iter()
        .flat_map(|w| order.word_in(*w).to_be_bytes())
        .collect();
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end])
        .trim_end()
        .to_string()
}

/// String registers for text, NUL-padded.
pub(crate) fn from_text(order: WordOrder, chars: u16, text: &str) -> Result<Vec<u16>, ValueError> {
    if !text.is_ascii() || text.len() > usize::from(chars) {
        return Err(ValueError::Text(chars));
    }
    let mut bytes = text.as_bytes().to_vec();
    bytes.resize(usize::from(chars.div_ceil(2)) * 2, 0);
    Ok(bytes
        .chunks(2)
        .map(|c| order.word_in(u16::from_be_bytes([c[0], c[1]])))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_word_order_places_the_bytes_of_0x11223344_as_named() {
        let v = 0x1122_3344;
        assert_eq!(WordOrder::ABCD.split(v), [0x1122, 0x3344]);
        assert_eq!(WordOrder::CDAB.split(v), [0x3344, 0x1122]);
        assert_eq!(WordOrder::BADC.split(v), [0x2211, 0x4433]);
        assert_eq!(WordOrder::DCBA.split(v), [0x4433, 0x2211]);
        for o in [
            WordOrder::ABCD,
            WordOrder::CDAB,
            WordOrder::BADC,
            WordOrder::DCBA,
        ] {
            assert_eq!(o.join(o.split(v)), v, "{o:?}");
        }
    }

    #[test]
    fn signed_floats_and_scaled_values_round_trip() {
        let raw = from_number(SignalType::I16, -12.5, 0.1, 0.0).unwrap();
        assert_eq!(raw, u32::from((-125i16) as u16));
        assert_eq!(to_number(SignalType::I16, raw, 0.1, 0.0), -12.5);
        let raw = from_number(SignalType::F32, 1.5, 1.0, 0.0).unwrap();
        assert_eq!(to_number(SignalType::F32, raw, 1.0, 0.0), 1.5);
        let raw = from_number(SignalType::U16, 20.0, 0.5, -10.0).unwrap();
        assert_eq!(raw, 60);
        assert!(from_number(SignalType::U16, -1.0, 1.0, 0.0).is_err());
        assert!(from_number(SignalType::U16, 70_000.0, 1.0, 0.0).is_err());
        assert!(from_number(SignalType::I32, f64::NAN, 1.0, 0.0).is_err());
    }

    #[test]
    fn text_is_two_characters_per_register_and_trimmed() {
        let w = from_text(WordOrder::ABCD, 5, "CV-1").unwrap();
        assert_eq!(w, vec![0x4356, 0x2D31, 0x0000]);
        assert_eq!(to_text(WordOrder::ABCD, &w), "CV-1");
        let swapped = from_text(WordOrder::BADC, 5, "CV-1").unwrap();
        assert_eq!(swapped[0], 0x5643);
        assert_eq!(to_text(WordOrder::BADC, &swapped), "CV-1");
        assert!(from_text(WordOrder::ABCD, 3, "TOOLONG").is_err());
    }

    #[test]
    fn types_are_read_from_their_names() {
        assert_eq!(
            SignalType::try_from("string(12)".to_string()),
            Ok(SignalType::String(12))
        );
        assert_eq!(SignalType::String(5).width(), 3);
        assert!(SignalType::try_from("u64".to_string()).is_err());
        assert!(SignalType::try_from("string(0)".to_string()).is_err());
    }
}

//! A process image: the four Modbus tables of one PLC as plain memory, read and written by signal.
//!
//! The simulator serves its image over Modbus; the controller fills one from its poll reads.

use crate::map::{PlcMap, Signal, SignalType, Table};
use crate::value::{self, Value, ValueError};

/// The four tables, each sized to cover every signal of a map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Image {
    coils: Vec<bool>,
    discrete_inputs: Vec<bool>,
    holding: Vec<u16>,
    input: Vec<u16>,
}

/// An address range outside the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{table:?} {start}..{end} is outside the mapped addresses")]
pub struct OutOfRange {
    /// Table.
    pub table: Table,
    /// First address asked for.
    pub start: u32,
    /// One past the last.
    pub end: u32,
}

impl Image {
    /// An all-zero image covering every signal of `map`.
    pub fn for_map(map: &PlcMap) -> Image {
        let size = |t: Table| {
            map.signals
                .values()
                .filter(|s| s.table == t)
                .map(Signal::end)
                .max()
                .unwrap_or(0) as usize
        };
        Image {
            coils: vec![false; size(Table::Coil)],
            discrete_inputs: vec![false; size(Table::DiscreteInput)],
            holding: vec![0; size(Table::HoldingRegister)],
            input: vec![0; size(Table::InputRegister)],
        }
    }

    fn range(
        len: usize,
        table: Table,
        start: u16,
        count: u16,
    ) -> Result<std::ops::Range<usize>, OutOfRange> {
        let (s, e) = (usize::from(start), usize::from(start) + usize::from(count));
        if e > len || count == 0 {
            return Err(OutOfRange {
                table,
                start: u32::from(start),
                end: e as u32,
            });
        }
        Ok(s..e)
    }

    /// Bits of a bit table.
    pub fn bits(&self, table: Table, start: u16, count: u16) -> Result<&[bool], OutOfRange> {
        let v = self.bit_table(table);
        Ok(&v[Self::range(v.len(), table, start, count)?])
    }

    /// Words of a register table.
    pub fn words(&self, table: Table, start: u16, count: u16) -> Result<&[u16], OutOfRange> {
        let v = self.word_table(table);
        Ok(&v[Self::range(v.len(), table, start, count)?])
    }

    /// Overwrites bits of a bit table.
    pub fn set_bits(
        &mut self,
        table: Table,
        start: u16,
        values: &[bool],
    ) -> Result<(), OutOfRange> {
        let v = self.bit_table_mut(table);
        let r = Self::range(v.len(), table, start, values.len() as u16)?;
        v[r].copy_from_slice(values);
        Ok(())
    }

    /// Overwrites words of a register table.
    pub fn set_words(
        &mut self,
        table: Table,
        start: u16,
        values: &[u16],
    ) -> Result<(), OutOfRange> {
        let v = self.word_table_mut(table);
        let r = Self::range(v.len(), table, start, values.len() as u16)?;
        v[r].copy_from_slice(values);
        Ok(())
    }

    fn bit_table(&self, table: Table) -> &Vec<bool> {
        if table == Table::Coil {
            &self.coils
        } else {
            &self.discrete_inputs
        }
    }

    fn bit_table_mut(&mut self, table: Table) -> &mut Vec<bool> {
        if table == Table::Coil {
            &mut self.coils
        } else {
            &mut self.discrete_inputs
        }
    }

    fn word_table(&self, table: Table) -> &Vec<u16> {
        if table == Table::HoldingRegister {
            &self.holding
        } else {
            &self.input
        }
    }

    fn word_table_mut(&mut self, table: Table) -> &mut Vec<u16> {
        if table == Table::HoldingRegister {
            &mut self.holding
        } else {
            &mut self.input
        }
    }

    /// Register address of element `index` (all elements of a `bit` signal share one register).
    fn element(signal: &Signal, index: u16) -> usize {
        if signal.ty == SignalType::Bit {
            usize::from(signal.address)
        } else {
            usize::from(signal.address) + usize::from(index) * usize::from(signal.ty.width())
        }
    }

    /// Element `index` of a signal as its raw unsigned pattern: bits as 0 or 1, 16-bit values
    /// zero-extended, 32-bit values joined in the signal's word order (text reads as 0).
    pub fn get(&self, signal: &Signal, index: u16) -> u32 {
        let addr = Self::element(signal, index);
        match signal.ty {
            SignalType::Bool => u32::from(self.bit_table(signal.table)[addr]),
            SignalType::Bit => {
                let w = signal.order().word_in(self.word_table(signal.table)[addr]);
                let bit = u32::from(signal.bit.unwrap_or(0)) + u32::from(index);
                (u32::from(w) >> bit) & 1
            }
            SignalType::String(_) => 0,
            ty => {
                let w = self.word_table(signal.table);
                let n = usize::from(ty.width());
                value::decode_raw(ty, signal.order(), &w[addr..addr + n])
            }
        }
    }

    /// Sets element `index` of a signal from its raw pattern (bools and bits: non-zero is true;
    /// 16-bit types keep the low 16 bits; text is left alone).
    pub fn set(&mut self, signal: &Signal, index: u16, raw: u32) {
        let addr = Self::element(signal, index);
        match signal.ty {
            SignalType::Bool => self.bit_table_mut(signal.table)[addr] = raw != 0,
            SignalType::Bit => {
                let o = signal.order();
                let w = &mut self.word_table_mut(signal.table)[addr];
                let bit = u32::from(signal.bit.unwrap_or(0)) + u32::from(index);
                let v = o.word_in(*w);
                let v = if raw != 0 {
                    v | (1 << bit)
                } else {
                    v & !(1 << bit)
                };
                *w = o.word_in(v);
            }
            SignalType::String(_) => {}
            _ => {
                let words = Self::encode(signal, raw);
                let w = self.word_table_mut(signal.table);
                w[addr..addr + words.len()].copy_from_slice(&words);
            }
        }
    }

    /// Element `index` of a signal as an engineering value.
    pub fn value(&self, signal: &Signal, index: u16) -> Value {
        match signal.ty {
            SignalType::Bool | SignalType::Bit => Value::Bool(self.get(signal, index) != 0),
            SignalType::String(n) => {
                let addr = Self::element(signal, index);
                let w = self.word_table(signal.table);
                Value::Text(value::to_text(
                    signal.order(),
                    &w[addr..addr + usize::from(n.div_ceil(2))],
                ))
            }
            ty => Value::Number(value::to_number(
                ty,
                self.get(signal, index),
                signal.scale(),
                signal.offset(),
            )),
        }
    }

    /// Sets element `index` of a signal to an engineering value, or says why it does not fit
    /// (and changes nothing).
    pub fn set_value(&mut self, signal: &Signal, index: u16, v: &Value) -> Result<(), ValueError> {
        let words = Self::encode_value(signal, v)?;
        match signal.ty {
            SignalType::Bool | SignalType::Bit => self.set(signal, index, u32::from(words[0])),
            _ => {
                let addr = Self::element(signal, index);
                let w = self.word_table_mut(signal.table);
                w[addr..addr + words.len()].copy_from_slice(&words);
            }
        }
        Ok(())
    }

    /// The register words that encode a raw pattern for a numeric signal element (bits: 0 or 1).
    pub fn encode(signal: &Signal, raw: u32) -> Vec<u16> {
        let o = signal.order();
        match signal.ty {
            SignalType::Bool | SignalType::Bit => vec![u16::from(raw != 0)],
            SignalType::U16 | SignalType::I16 => vec![o.word_in(raw as u16)],
            SignalType::String(n) => vec![0; usize::from(n.div_ceil(2))],
            _ => o.split(raw).to_vec(),
        }
    }

    /// The register words (or one 0/1 word for bits) that encode an engineering value.
    pub fn encode_value(signal: &Signal, v: &Value) -> Result<Vec<u16>, ValueError> {
        let ty = signal.ty;
        match (ty, v) {
            (SignalType::Bool | SignalType::Bit, Value::Bool(b)) => Ok(vec![u16::from(*b)]),
            (SignalType::String(n), Value::Text(t)) => value::from_text(signal.order(), n, t),
            (_, Value::Number(x)) => Ok(Self::encode(
                signal,
                value::from_number(ty, *x, signal.scale(), signal.offset())?,
            )),
            (_, Value::Bool(_)) => Err(ValueError::WrongKind { given: "bool", ty }),
            (_, Value::Text(_)) => Err(ValueError::WrongKind { given: "text", ty }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::Access;

    fn sig(table: Table, address: u16, ty: SignalType, count: u16) -> Signal {
        Signal {
            table,
            address,
            ty,
            bit: None,
            count,
            access: Access::Read,
            word_order: None,
            scale: None,
            offset: None,
            unit: String::new(),
            description: String::new(),
        }
    }

    #[test]
    fn u32_values_are_stored_high_word_first() {
        let s = sig(Table::InputRegister, 2, SignalType::U32, 1);
        let mut img = Image {
            input: vec![0; 4],
            ..Image::default()
        };
        img.set(&s, 0, 0x0001_0002);
        assert_eq!(img.words(Table::InputRegister, 2, 2).unwrap(), &[1, 2]);
        assert_eq!(img.get(&s, 0), 0x0001_0002);
        assert_eq!(Image::encode(&s, 0x0001_0002), vec![1, 2]);
    }

    #[test]
    fn reads_outside_the_image_are_refused() {
        let img = Image {
            holding: vec![0; 4],
            ..Image::default()
        };
        assert!(img.words(Table::HoldingRegister, 3, 2).is_err());
        assert!(img.words(Table::HoldingRegister, 0, 4).is_ok());
        assert!(img.bits(Table::Coil, 0, 1).is_err());
    }

    #[test]
    fn typed_values_follow_word_order_scale_and_bit_position() {
        let mut img = Image {
            input: vec![0; 8],
            ..Image::default()
        };
        let mut f = sig(Table::InputRegister, 0, SignalType::F32, 1);
        f.word_order = Some(crate::value::WordOrder::CDAB);
        img.set_value(&f, 0, &Value::Number(-2.5)).unwrap();
        let bits = (-2.5f32).to_bits();
        assert_eq!(
            img.words(Table::InputRegister, 0, 2).unwrap(),
            &[bits as u16, (bits >> 16) as u16]
        );
        assert_eq!(img.value(&f, 0), Value::Number(-2.5));

        let mut t = sig(Table::InputRegister, 2, SignalType::I16, 1);
        t.scale = Some(0.1);
        t.offset = Some(0.0);
        img.set_value(&t, 0, &Value::Number(-4.2)).unwrap();
        assert_eq!(
            img.words(Table::InputRegister, 2, 1).unwrap(),
            &[(-42i16) as u16]
        );
        assert!(
            img.set_value(&t, 0, &Value::Number(4000.0)).is_err(),
            "beyond i16 once scaled"
        );
        assert_eq!(
            img.words(Table::InputRegister, 2, 1).unwrap(),
            &[(-42i16) as u16],
            "unchanged"
        );

        let mut b = sig(Table::InputRegister, 3, SignalType::Bit, 3);
        b.bit = Some(4);
        img.set(&b, 1, 1);
        img.set(&b, 2, 1);
        assert_eq!(
            img.words(Table::InputRegister, 3, 1).unwrap(),
            &[0b110_0000]
        );
        assert_eq!((img.get(&b, 0), img.get(&b, 1)), (0, 1));

        let s = sig(Table::InputRegister, 4, SignalType::String(6), 1);
        img.set_value(&s, 0, &Value::Text("TS8".into())).unwrap();
        assert_eq!(img.value(&s, 0), Value::Text("TS8".into()));
    }
}

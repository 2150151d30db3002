//! A process image: the four Modbus tables of one PLC as plain memory, read and written by signal.
//!
//! The simulator serves its image over Modbus; the controller fills one from its poll reads.

use crate::map::{PlcMap, Signal, SignalType, Table};

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

    /// Element `index` of a signal as an unsigned number (bools read as 0 or 1).
    pub fn get(&self, signal: &Signal, index: u16) -> u32 {
        let addr = signal.address + index * signal.ty.width();
        match signal.ty {
            SignalType::Bool => u32::from(self.bit_table(signal.table)[usize::from(addr)]),
            SignalType::U16 => u32::from(self.word_table(signal.table)[usize::from(addr)]),
            SignalType::U32 => {
                let w = self.word_table(signal.table);
                (u32::from(w[usize::from(addr)]) << 16) | u32::from(w[usize::from(addr) + 1])
            }
        }
    }

    /// Sets element `index` of a signal (bools: non-zero is true; u16 keeps the low 16 bits).
    pub fn set(&mut self, signal: &Signal, index: u16, value: u32) {
        let addr = usize::from(signal.address + index * signal.ty.width());
        match signal.ty {
            SignalType::Bool => self.bit_table_mut(signal.table)[addr] = value != 0,
            SignalType::U16 => self.word_table_mut(signal.table)[addr] = value as u16,
            SignalType::U32 => {
                let w = self.word_table_mut(signal.table);
                w[addr] = (value >> 16) as u16;
                w[addr + 1] = value as u16;
            }
        }
    }

    /// The register words that encode `value` for a signal element, for a write request.
    pub fn encode(signal: &Signal, value: u32) -> Vec<u16> {
        match signal.ty {
            SignalType::Bool | SignalType::U16 => vec![value as u16],
            SignalType::U32 => vec![(value >> 16) as u16, value as u16],
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
            count,
            access: Access::Read,
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
}

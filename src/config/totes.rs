//! The site file's tote numbering: `first_tote` to `last_tote`, inside what the sorter's tote
//! register holds, with room enough that numbering starting again never meets a tote still on
//! the floor.

use floorctl_protocol::value::SignalType;

/// Fewest tote numbers a site may have between `first_tote` and `last_tote`.
pub(super) const MIN_TOTE_NUMBERS: u32 = 1_000;

/// The largest tote number a register of type `ty` holds.
pub(super) fn largest(ty: SignalType) -> u32 {
    match ty {
        SignalType::U16 => u32::from(u16::MAX),
        SignalType::I16 => i16::MAX as u32,
        SignalType::I32 => i32::MAX as u32,
        _ => u32::MAX,
    }
}

/// The site's first and last tote numbers from the file's keys and the sorter's tote register
/// (its PLC id and type), every problem listed.
pub(super) fn tote_numbers(
    first: Option<u32>,
    last: Option<u32>,
    register: Option<(&str, SignalType)>,
    problems: &mut Vec<String>,
) -> (u32, u32) {
    let fits = register.map_or(u32::MAX, |(_, ty)| largest(ty));
    let first = first.unwrap_or(1);
    let last = last.unwrap_or(fits);
    if first == 0 {
        problems.push("first_tote must be at least 1 (tote 0 is the sorter's no-read)".into());
    }
    if let Some((plc, ty)) = register.filter(|_| last > fits) {
        problems.push(format!(
            "last_tote {last} does not fit the tote register of sorter `{plc}` ({ty}, at most {fits}); give last_tote = {fits} or less"
        ));
    }
    if first > last || last - first < MIN_TOTE_NUMBERS - 1 {
        let most = last.saturating_sub(MIN_TOTE_NUMBERS - 1);
        problems.push(format!(
            "first_tote {first} leaves {} tote numbers up to last_tote {last}; at least {MIN_TOTE_NUMBERS} are needed: give first_tote = {most} or less",
            u64::from(last).saturating_sub(u64::from(first)) + u64::from(first <= last),
        ));
    }
    (first.max(1), last.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(first: Option<u32>, last: Option<u32>, ty: SignalType) -> Vec<String> {
        let mut p = Vec::new();
        tote_numbers(first, last, Some(("sorter1", ty)), &mut p);
        p
    }

    #[test]
    fn the_default_numbers_every_tote_the_register_holds() {
        let mut p = Vec::new();
        let got = tote_numbers(None, None, Some(("sorter1", SignalType::U32)), &mut p);
        assert_eq!(got, (1, u32::MAX));
        assert!(p.is_empty());
        let got = tote_numbers(Some(1_000_000), None, Some(("s", SignalType::U16)), &mut p);
        assert_eq!(got.1, 65_535);
        assert_eq!(p.len(), 1, "a first tote above a u16 register: {p:?}");
    }

    #[test]
    fn a_range_that_would_wrap_at_once_is_refused_with_the_first_tote_that_works() {
        let p = problems(Some(4_294_967_294), None, SignalType::U32);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("leaves 2 tote numbers"), "{p:?}");
        assert!(p[0].contains("first_tote = 4294966296 or less"), "{p:?}");
        assert!(problems(Some(4_294_966_296), None, SignalType::U32).is_empty());
        assert!(!problems(Some(0), None, SignalType::U32).is_empty());
        assert!(!problems(Some(10), Some(5), SignalType::U32).is_empty());
    }

    #[test]
    fn a_last_tote_beyond_the_sorter_register_is_refused() {
        let p = problems(None, Some(70_000), SignalType::U16);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("at most 65535"), "{p:?}");
    }
}

//! A sorter's own chute numbers and the site's: a floor with several sorters numbers its chutes
//! once across them, each sorter's chute 1 being the site's `first_chute`.

/// The site's number of a sorter's own chute `own` (0, no chute, stays 0).
pub(crate) fn site_chute(first_chute: u16, own: u16) -> u16 {
    if own == 0 {
        0
    } else {
        own.saturating_add(first_chute.saturating_sub(1))
    }
}

/// The sorter's own number of the site's chute `site`; `None` when it is not one of its chutes.
pub(crate) fn own_chute(first_chute: u16, site: u16) -> Option<u16> {
    site.checked_sub(first_chute.saturating_sub(1))
        .filter(|own| *own > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_sorters_chutes_are_numbered_after_the_firsts() {
        assert_eq!(site_chute(9, 1), 9);
        assert_eq!(site_chute(9, 8), 16);
        assert_eq!(site_chute(9, 0), 0, "no chute stays no chute");
        assert_eq!(own_chute(9, 16), Some(8));
        assert_eq!(own_chute(9, 8), None, "the first sorter's chute");
        assert_eq!((site_chute(1, 5), own_chute(1, 5)), (5, Some(5)));
    }
}

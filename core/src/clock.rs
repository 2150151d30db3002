//! Times of day in the site's local time, and the instants they fall on.

use std::fmt;

use super::Millis;

/// Milliseconds in a day.
pub(super) const DAY_MS: u64 = 86_400_000;

/// A time of day, in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(u32);

impl TimeOfDay {
    /// Reads `HH:MM` (24-hour clock).
    pub fn parse(text: &str) -> Result<TimeOfDay, String> {
        let bad = || format!("`{text}` is not a time of day; write it as HH:MM, for example 13:30");
        let (h, m) = text.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u32 = h.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(TimeOfDay(h * 60 + m))
    }

    /// From hours and minutes; `None` outside the day.
    pub const fn hm(h: u32, m: u32) -> Option<TimeOfDay> {
        if h < 24 && m < 60 {
            Some(TimeOfDay(h * 60 + m))
        } else {
            None
        }
    }

    fn ms(self) -> u64 {
        u64::from(self.0) * 60_000
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// The site's local clock: UTC plus a fixed offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalClock {
    /// Local time minus UTC, in minutes.
    pub utc_offset_min: i32,
}

impl LocalClock {
    /// Reads an offset written `+01:00`, `-05:30` or `Z`.
    pub fn parse(text: &str) -> Result<LocalClock, String> {
        if text == "Z" {
            return Ok(LocalClock::default());
        }
        let bad = || format!("utc_offset `{text}` must look like +01:00, -05:30 or Z");
        let (sign, rest) = match text.split_at_checked(1) {
            Some(("+", r)) => (1, r),
            Some(("-", r)) => (-1, r),
            _ => return Err(bad()),
        };
        let t = TimeOfDay::parse(rest).map_err(|_| bad())?;
        if t.0 > 14 * 60 {
            return Err(bad());
        }
        Ok(LocalClock {
            utc_offset_min: sign * t.0 as i32,
        })
    }

    fn local(self, at: Millis) -> i128 {
        i128::from(at) + i128::from(self.utc_offset_min) * 60_000
    }

    /// The local time of day at an instant.
    pub fn time_of_day(self, at: Millis) -> TimeOfDay {
        let ms = self.local(at).rem_euclid(i128::from(DAY_MS)) as u64;
        TimeOfDay((ms / 60_000) as u32)
    }

    /// The first instant after `at` whose local time of day is `t` (the same day when `t` is
    /// still to come, else the next day).
    pub fn next(self, at: Millis, t: TimeOfDay) -> Millis {
        let local = self.local(at);
        let into_day = local.rem_euclid(i128::from(DAY_MS));
        let midnight = local - into_day;
        let mut when = midnight + i128::from(t.ms());
        if when <= local {
            when += i128::from(DAY_MS);
        }
        let utc = when - i128::from(self.utc_offset_min) * 60_000;
        utc.clamp(0, i128::from(u64::MAX)) as Millis
    }

    /// Whether `at` falls in the daily window from `from` to `to` (which may span midnight).
    pub fn within(self, at: Millis, from: TimeOfDay, to: TimeOfDay) -> bool {
        let t = self.time_of_day(at);
        if from <= to {
            from <= t && t < to
        } else {
            t >= from || t < to
        }
    }

    /// The instant of local time of day `t` on calendar day `day` (days from 1970-01-01).
    pub fn on_day(self, day: i64, t: TimeOfDay) -> Millis {
        let local = i128::from(day) * i128::from(DAY_MS) + i128::from(t.ms());
        let utc = local - i128::from(self.utc_offset_min) * 60_000;
        utc.clamp(0, i128::from(u64::MAX)) as Millis
    }

    /// `HH:MM` local time of an instant.
    pub fn show(self, at: Millis) -> String {
        self.time_of_day(at).to_string()
    }
}

/// An instant in RFC 3339 form, UTC, to the millisecond (`2026-11-30T09:05:00.250Z`).
pub fn utc_text(at: Millis) -> String {
    let days = (at / DAY_MS) as i64;
    let ms = at % DAY_MS;
    // Days since 1970-01-01 to a civil date (proleptic Gregorian), by 400-year eras.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3_600_000;

    #[test]
    fn instants_are_written_as_rfc3339_utc() {
        assert_eq!(utc_text(0), "1970-01-01T00:00:00.000Z");
        // `date -u -d @1796029500.25 +%FT%T.%3NZ`
        assert_eq!(utc_text(1_796_029_500_250), "2026-11-30T09:05:00.250Z");
        assert_eq!(utc_text(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(utc_text(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
    }

    #[test]
    fn times_of_day_are_read_strictly() {
        assert_eq!(TimeOfDay::parse("13:30").unwrap().to_string(), "13:30");
        for bad in ["1:30", "24:00", "12:60", "12-30", "", "ab:cd"] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_next_occurrence_is_today_when_still_to_come_else_tomorrow() {
        let utc = LocalClock::default();
        let day = 20_000 * DAY_MS;
        let t1330 = TimeOfDay::parse("13:30").unwrap();
        assert_eq!(utc.next(day + 9 * H, t1330), day + 13 * H + H / 2);
        assert_eq!(utc.next(day + 14 * H, t1330), day + DAY_MS + 13 * H + H / 2);
        assert_eq!(
            utc.next(day + 13 * H + H / 2, t1330),
            day + DAY_MS + 13 * H + H / 2
        );
    }

    #[test]
    fn an_offset_moves_local_midnight() {
        let cet = LocalClock::parse("+01:00").unwrap();
        let day = 20_000 * DAY_MS;
        // 23:30 UTC is 00:30 the next day in UTC+1: 01:00 local comes half an hour later.
        let at = day + 23 * H + H / 2;
        assert_eq!(cet.show(at), "00:30");
        assert_eq!(cet.next(at, TimeOfDay::parse("01:00").unwrap()), at + H / 2);
        assert_eq!(LocalClock::parse("-05:30").unwrap().utc_offset_min, -330);
        // 20:00 on day 20,000 in UTC+1 is 19:00 UTC.
        let eight = TimeOfDay::parse("20:00").unwrap();
        assert_eq!(cet.on_day(20_000, eight), day + 19 * H);
        assert!(LocalClock::parse("01:00").is_err());
        assert!(LocalClock::parse("+15:00").is_err());
    }

    #[test]
    fn a_window_may_span_midnight() {
        let utc = LocalClock::default();
        let (from, to) = (
            TimeOfDay::parse("20:00").unwrap(),
            TimeOfDay::parse("05:00").unwrap(),
        );
        let day = 20_000 * DAY_MS;
        assert!(utc.within(day + 22 * H, from, to));
        assert!(utc.within(day + 2 * H, from, to));
        assert!(!utc.within(day + 12 * H, from, to));
        assert!(!utc.within(day + 5 * H, from, to));
    }
}

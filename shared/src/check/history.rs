//! What a check has read of its series, kept in the alert state between minutes, so each
//! sample is read from Prometheus once.
//!
//! A check's [`History`] holds its window on the check's grid (`from` to `end`, every step):
//! each series' values, last season's values where the check is seasonal, and, for its
//! no-data alerts, when each series of its presence query last had a point. Each minute the
//! check reads only the steps since its last evaluation plus [`History::resume`]'s overlap
//! (re-read points replace the stored ones, so a late scrape is taken in), and the window it
//! evaluates is the stored one moved forward. The window is read afresh when there is no
//! history, when the check's query, step, window or seasonality changed, or when the gap since
//! the last evaluation is longer than [`FILL_SLICE_POINTS`] steps; that read goes newest first
//! ([`FIRST_SLICE_POINTS`]), older slices following while the invocation has time and over the
//! next minutes, and meanwhile the check evaluates what has been read.
//!
//! Given the same samples, the window evaluated is the one a full read returns, point for
//! point: a range query's value at a step does not depend on where the range starts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::Check;
use super::shard::Shard;
use crate::series::{Labels, Points, Series};

/// Most steps one read covers when the window is read afresh (an hour and a half at a
/// one-minute step); also the longest gap after which a window is continued rather than read
/// afresh.
pub const FILL_SLICE_POINTS: i64 = 90;

/// Steps of the first read of a window read afresh: the newest ten, cheap at any size; the
/// job sizes the older slices from what that read cost.
pub const FIRST_SLICE_POINTS: i64 = 10;

/// One check's window as read so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The check.
    pub check: String,
    /// What was read ([`fingerprint`]): a history of another query is not continued.
    pub read: String,
    /// The check's step, seconds.
    pub step: i64,
    /// The window end of the newest read, unix seconds.
    pub end: i64,
    /// The oldest step read; the window is complete once it reaches the window's start.
    pub from: i64,
    /// Each series' values at `from, from + step, …, end`.
    pub series: Vec<StoredSeries>,
    /// Last season's values on the same steps (times one season later than their samples).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub season: Vec<StoredSeries>,
    /// When each series of the presence query (or, without one, of the check's query) last
    /// had a point, for a check with no-data alerts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presence: Vec<LastSeen>,
    /// When a series of another shard last had a point (sharded checks only): the check as
    /// a whole still returns data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elsewhere: Option<i64>,
}

/// One series' stored values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSeries {
    /// The series labels.
    pub labels: Labels,
    /// The values, one per step; `NaN` where there is no sample.
    #[serde(with = "xor_floats")]
    pub values: Vec<f64>,
}

/// When a series last had a point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSeen {
    /// The series labels.
    pub labels: Labels,
    /// Unix seconds.
    pub at: i64,
}

/// A range of steps to read, `[start, end]` in the check's (unshifted) times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The first step.
    pub start: i64,
    /// The last step.
    pub end: i64,
}

/// What one span's queries returned: the check's series, last season's (at their own times),
/// the presence query's.
#[derive(Debug, Default)]
pub struct Read {
    /// The check's query.
    pub current: Vec<Series>,
    /// The check's query one season earlier.
    pub season: Vec<Series>,
    /// The presence query.
    pub presence: Vec<Series>,
}

/// What a history is of: the check's queries, step, window and seasonality.
pub fn fingerprint(check: &Check) -> String {
    let mut hash = Fnv::default();
    for part in [
        check.query.as_str(),
        check.presence_query.as_deref().unwrap_or(""),
        &check.step_seconds.to_string(),
        &check.window_seconds.to_string(),
        &check.seasonality.offset_seconds().unwrap_or(0).to_string(),
        &check.absent_after_seconds.min(1).to_string(),
    ] {
        hash.write(part.as_bytes());
        hash.write(&[0xff]);
    }
    format!("{:016x}", hash.0)
}

/// FNV-1a, 64 bits: stable across versions and machines, which `std`'s hasher is not.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    /// Takes `bytes` in.
    pub fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn step_of(check: &Check) -> i64 {
    i64::try_from(check.step_seconds).unwrap_or(60).max(1)
}

/// The window's length on its grid: the steps before the newest point.
fn window_of(check: &Check) -> i64 {
    i64::try_from(check.window_points().saturating_sub(1)).unwrap_or(0) * step_of(check)
}

fn season_of(check: &Check) -> Option<i64> {
    check
        .seasonality
        .offset_seconds()
        .and_then(|o| i64::try_from(o).ok())
}

impl History {
    /// The history to carry on at window end `end`, from what was `stored`, and the newest
    /// span to read: the steps since the stored end, `overlap_seconds` of them again (whole
    /// steps, at least one); or, without a history to continue, the newest slice.
    pub fn resume(
        stored: Option<Self>,
        check: &Check,
        end: i64,
        overlap_seconds: i64,
    ) -> (Self, Span) {
        let step = step_of(check);
        let window_start = end - window_of(check);
        let read = fingerprint(check);
        let overlap = (overlap_seconds.max(1) + step - 1) / step * step;
        let continued = stored.filter(|h| {
            h.read == read
                && h.check == check.name
                && h.step == step
                && h.consistent()
                && h.end <= end
                && end - h.end < FILL_SLICE_POINTS * step
                && (end - h.end) % step == 0
        });
        if let Some(history) = continued {
            let start = (history.end - overlap).max(history.from).max(window_start);
            return (history, Span { start, end });
        }
        let start = (end - (FIRST_SLICE_POINTS - 1) * step).max(window_start);
        let fresh = Self {
            check: check.name.clone(),
            read,
            step,
            end,
            from: end + step,
            series: Vec::new(),
            season: Vec::new(),
            presence: Vec::new(),
            elsewhere: None,
        };
        (fresh, Span { start, end })
    }

    /// The next older slice of at most `points` steps (at most [`FILL_SLICE_POINTS`]) to
    /// read, until the window of `check` is complete.
    pub fn older(&self, check: &Check, points: i64) -> Option<Span> {
        let step = step_of(check);
        let window_start = self.end - window_of(check);
        let points = points.clamp(1, FILL_SLICE_POINTS);
        (self.from > window_start).then(|| Span {
            start: (self.from - points * step).max(window_start),
            end: self.from - step,
        })
    }

    /// Whether anything has been read (a fresh history whose first read failed has not).
    pub fn has_read(&self) -> bool {
        self.from <= self.end
    }

    /// Whether the whole window has been read.
    pub fn complete(&self, check: &Check) -> bool {
        self.from <= self.end - window_of(check)
    }

    /// Takes in what `span` read of the series `shard` owns, replacing what was stored for
    /// its steps, and moves the window to end at the later of its end and the span's; steps
    /// before the window are dropped, and so is a series with no value left.
    pub fn take(&mut self, check: &Check, shard: Shard, span: Span, mut read: Read) {
        let step = step_of(check);
        let end = self.end.max(span.end);
        let from = self.from.min(span.start).max(end - window_of(check));
        let presence = if check.absent_after_seconds == 0 {
            &[][..]
        } else if check.presence_query.is_some() {
            &read.presence[..]
        } else {
            &read.current[..]
        };
        let (newly_seen, elsewhere): (Vec<Seen>, Vec<Seen>) = presence
            .iter()
            .filter_map(|s| Some((s.labels.clone(), newest(&s.points)?)))
            .partition(|(labels, _)| shard.owns(labels));
        read.current.retain(|s| shard.owns(&s.labels));
        read.season.retain(|s| shard.owns(&s.labels));
        self.elsewhere = elsewhere
            .into_iter()
            .map(|(_, at)| at)
            .chain(self.elsewhere)
            .max();
        let grid = Grid {
            from,
            end,
            step,
            span,
        };
        let stored = Grid {
            from: self.from,
            end: self.end,
            step,
            span,
        };
        self.series = grid.merge(&stored, std::mem::take(&mut self.series), read.current, 0);
        if let Some(offset) = season_of(check) {
            self.season = grid.merge(
                &stored,
                std::mem::take(&mut self.season),
                read.season,
                offset,
            );
        }
        let mut seen: BTreeMap<Labels, i64> = std::mem::take(&mut self.presence)
            .into_iter()
            .map(|s| (s.labels, s.at))
            .collect();
        for (labels, at) in newly_seen {
            let entry = seen.entry(labels).or_insert(at);
            *entry = (*entry).max(at);
        }
        self.presence = seen
            .into_iter()
            .filter(|(_, at)| *at >= from)
            .map(|(labels, at)| LastSeen { labels, at })
            .collect();
        self.elsewhere = self.elsewhere.filter(|at| *at >= from);
        self.from = from;
        self.end = end;
    }

    /// The check's series over the window, one at a time (so that only one is copied out at
    /// once).
    pub fn current(&self) -> impl Iterator<Item = Series> + '_ {
        self.series.iter().map(|s| self.to_series(s, 0))
    }

    /// Last season's series, at their own times; none for a check without seasonality.
    pub fn season(&self, check: &Check) -> Vec<Series> {
        season_of(check).map_or_else(Vec::new, |offset| {
            self.season
                .iter()
                .map(|s| self.to_series(s, offset))
                .collect()
        })
    }

    /// Each series of the presence query with its newest point.
    pub fn seen(&self) -> Vec<Series> {
        self.presence
            .iter()
            .map(|s| Series {
                labels: s.labels.clone(),
                points: std::iter::once((s.at as f64, 1.0)).collect(),
            })
            .collect()
    }

    fn to_series(&self, stored: &StoredSeries, shift: i64) -> Series {
        Series {
            labels: stored.labels.clone(),
            points: (0_i64..)
                .zip(&stored.values)
                .map(|(i, v)| ((self.from + i * self.step - shift) as f64, *v))
                .collect::<Points>(),
        }
    }

    /// Whether every stored series has one value per step of the window (a stored window
    /// that has not is read afresh).
    pub fn consistent(&self) -> bool {
        let slots = usize::try_from((self.end - self.from) / self.step + 1).unwrap_or(0);
        self.step > 0
            && (self.end - self.from) % self.step == 0
            && self
                .series
                .iter()
                .chain(&self.season)
                .all(|s| s.values.len() == slots)
    }

    /// Whether a series of another shard had a point in the window.
    pub fn seen_elsewhere(&self) -> bool {
        self.elsewhere.is_some()
    }
}

/// A series and the time of its newest point.
type Seen = (Labels, i64);

/// The time of a series' newest point with a value.
fn newest(points: &Points) -> Option<i64> {
    points
        .iter()
        .filter(|(_, v)| v.is_finite())
        .last()
        .map(|(t, _)| {
            #[allow(clippy::cast_possible_truncation)]
            let at = t.round() as i64;
            at
        })
}

/// A grid of steps `from..=end`, and the span just read.
struct Grid {
    from: i64,
    end: i64,
    step: i64,
    span: Span,
}

impl Grid {
    fn slots(&self) -> usize {
        usize::try_from((self.end - self.from) / self.step + 1).unwrap_or(0)
    }

    fn slot(&self, time: i64) -> Option<usize> {
        let offset = time - self.from;
        (offset >= 0 && offset % self.step == 0 && time <= self.end)
            .then(|| usize::try_from(offset / self.step).ok())
            .flatten()
    }

    /// The `stored` series (on the `old` grid) with the span's steps replaced by `read`'s
    /// points (at their times + `shift`), on this grid.
    fn merge(
        &self,
        old: &Self,
        stored: Vec<StoredSeries>,
        read: Vec<Series>,
        shift: i64,
    ) -> Vec<StoredSeries> {
        let slots = self.slots();
        let in_span = |time: i64| time >= self.span.start && time <= self.span.end;
        let mut merged: BTreeMap<Labels, Vec<f64>> = BTreeMap::new();
        for series in stored {
            let mut values = vec![f64::NAN; slots];
            for (time, value) in (0_i64..)
                .map(|i| old.from + i * old.step)
                .zip(series.values)
            {
                if let Some(slot) = self.slot(time).filter(|_| !in_span(time)) {
                    values[slot] = value;
                }
            }
            merged.insert(series.labels, values);
        }
        for series in read {
            let values = merged
                .entry(series.labels)
                .or_insert_with(|| vec![f64::NAN; slots]);
            for (time, value) in series.points.iter() {
                #[allow(clippy::cast_possible_truncation)]
                let time = time.round() as i64 + shift;
                if let Some(slot) = self.slot(time).filter(|_| in_span(time)) {
                    values[slot] = value;
                }
            }
        }
        merged
            .into_iter()
            .filter(|(_, values)| values.iter().any(|v| !v.is_nan()))
            .map(|(labels, values)| StoredSeries { labels, values })
            .collect()
    }
}

/// Values stored compactly and exactly: each value's bits XOR the previous value's, written
/// as one byte telling how many leading and trailing zero bytes were left out, then the
/// bytes between, in base64. A repeated value (or a run of missing ones) takes one byte, a
/// slowly changing one a few; a noisy one at most nine.
mod xor_floats {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn encode(values: &[f64]) -> Vec<u8> {
        let mut out = Vec::with_capacity(values.len() * 4);
        let mut previous = 0_u64;
        for value in values {
            let bits = value.to_bits();
            let xor = bits ^ previous;
            previous = bits;
            if xor == 0 {
                out.push(0x80);
                continue;
            }
            let lead = xor.leading_zeros() / 8;
            let trail = xor.trailing_zeros() / 8;
            let bytes = xor.to_le_bytes();
            #[allow(clippy::cast_possible_truncation)]
            out.push(((lead as u8) << 4) | trail as u8);
            out.extend_from_slice(&bytes[trail as usize..8 - lead as usize]);
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Vec<f64>, &'static str> {
        let mut values = Vec::new();
        let (mut previous, mut at) = (0_u64, 0);
        while let Some(&head) = bytes.get(at) {
            at += 1;
            if head != 0x80 {
                let (lead, trail) = (usize::from(head >> 4), usize::from(head & 0x0f));
                let len = 8_usize
                    .checked_sub(lead + trail)
                    .filter(|len| *len > 0)
                    .ok_or("a value header out of range")?;
                let middle = bytes.get(at..at + len).ok_or("values cut short")?;
                at += len;
                let mut le = [0_u8; 8];
                le[trail..trail + len].copy_from_slice(middle);
                previous ^= u64::from_le_bytes(le);
            }
            values.push(f64::from_bits(previous));
        }
        Ok(values)
    }

    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(encode(values)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        let text = <&str>::deserialize(deserializer)?;
        let bytes = STANDARD
            .decode(text)
            .map_err(|e| serde::de::Error::custom(format!("values: {e}")))?;
        decode(&bytes).map_err(|e| serde::de::Error::custom(format!("values: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::{default_checks, Seasonality};
    use crate::config::Env;
    use crate::conventions::MetricConventions;

    const END: i64 = 1_700_000_040;

    fn check() -> Check {
        default_checks(&MetricConventions::from_env(&Env::default()).expect("defaults")).remove(1)
    }

    fn labels(service: &str) -> Labels {
        [("service".to_owned(), service.to_owned())].into()
    }

    /// A full read's answer over `span`: value `f(t)` at each step for each service.
    fn series(span: Span, step: i64, services: &[&str], f: impl Fn(i64) -> f64) -> Vec<Series> {
        services
            .iter()
            .map(|s| Series {
                labels: labels(s),
                points: (span.start..=span.end)
                    .step_by(usize::try_from(step).expect("step"))
                    .map(|t| (t as f64, f(t)))
                    .collect(),
            })
            .collect()
    }

    fn value(t: i64) -> f64 {
        ((t % 977) as f64).sqrt() * 0.013
    }

    fn read(span: Span, services: &[&str]) -> Read {
        Read {
            current: series(span, 60, services, value),
            season: Vec::new(),
            presence: series(span, 60, services, |_| 1.0),
        }
    }

    /// Reads the window at `end` the way the job does: the newest span, then older slices
    /// until complete.
    fn advance(stored: Option<History>, check: &Check, end: i64, services: &[&str]) -> History {
        let (mut history, span) = History::resume(stored, check, end, 60);
        history.take(check, Shard::ONE, span, read(span, services));
        while let Some(older) = history.older(check, FILL_SLICE_POINTS) {
            history.take(check, Shard::ONE, older, read(older, services));
        }
        history
    }

    fn assert_afresh(span: Span) {
        assert_eq!(
            span.end - span.start,
            (FIRST_SLICE_POINTS - 1) * 60,
            "read afresh: the newest steps first"
        );
    }

    /// The window as a full read at the history's end returns it.
    fn window(history: &History, check: &Check) -> Read {
        Read {
            current: history.current().collect(),
            season: history.season(check),
            presence: history.seen(),
        }
    }

    fn full(check: &Check, end: i64, services: &[&str]) -> Vec<Series> {
        let span = Span {
            start: end - window_of(check),
            end,
        };
        series(span, 60, services, value)
    }

    #[test]
    fn minute_by_minute_the_window_is_the_full_read() {
        let check = check();
        let mut history = advance(None, &check, END, &["api", "cart"]);
        assert!(history.complete(&check));
        assert_eq!(
            window(&history, &check).current,
            full(&check, END, &["api", "cart"])
        );
        for minute in 1..=5 {
            let end = END + 60 * minute;
            let (next, span) = History::resume(Some(history), &check, end, 60);
            assert_eq!(
                span.end - span.start,
                120,
                "two steps again and the new one"
            );
            history = next;
            history.take(&check, Shard::ONE, span, read(span, &["api", "cart"]));
            assert_eq!(
                window(&history, &check).current,
                full(&check, end, &["api", "cart"])
            );
        }
    }

    #[test]
    fn a_fresh_read_fills_newest_first_and_a_long_gap_starts_afresh() {
        let check = check();
        let (mut history, span) = History::resume(None, &check, END, 60);
        assert_afresh(span);
        history.take(&check, Shard::ONE, span, read(span, &["api"]));
        assert!(!history.complete(&check));
        let windows = window(&history, &check).current;
        assert_eq!(windows[0].points.iter().count(), 10, "what was read so far");
        let older = history.older(&check, 30).expect("more to read");
        assert_eq!((older.end, older.end - older.start), (END - 600, 29 * 60));
        let later = advance(Some(history.clone()), &check, END + 20 * 60, &["api"]);
        assert_eq!(
            window(&later, &check).current,
            full(&check, END + 20 * 60, &["api"])
        );
        let (_, span) = History::resume(Some(later), &check, END + 3 * 3600, 60);
        assert_afresh(span);
        let mut changed = check.clone();
        changed.query.push_str(" > 0");
        let (_, span) = History::resume(Some(history), &changed, END + 60, 60);
        assert_afresh(span);
    }

    #[test]
    fn the_overlap_replaces_what_it_covers_and_gone_series_leave_the_window() {
        let check = check();
        let history = advance(None, &check, END, &["api", "gone"]);
        let (mut history, span) = History::resume(Some(history), &check, END + 60, 60);
        let mut late = read(span, &["api"]);
        late.current[0].points = [(span.start as f64, 42.0)].into_iter().collect();
        history.take(&check, Shard::ONE, span, late);
        let windows = window(&history, &check);
        let api: Vec<(f64, f64)> = windows.current[0].points.iter().collect();
        assert_eq!(
            api.last(),
            Some(&(span.start as f64, 42.0)),
            "late sample in, the rest of the span re-read as missing"
        );
        assert_eq!(windows.current[1].labels, labels("gone"));
        assert_eq!(windows.presence.len(), 2);
        let mut end = END + 60;
        while end < END + 7 * 3600 {
            end += 80 * 60;
            let (mut next, span) = History::resume(Some(history), &check, end, 60);
            next.take(&check, Shard::ONE, span, read(span, &["api"]));
            history = next;
        }
        let windows = window(&history, &check);
        assert_eq!(
            windows.current.len(),
            1,
            "a series with no point in the window is gone"
        );
        assert_eq!(windows.presence.len(), 1);
    }

    #[test]
    fn a_window_of_the_wrong_length_is_read_afresh() {
        let check = check();
        let mut history = advance(None, &check, END, &["api"]);
        assert!(history.consistent());
        history.series[0].values.pop();
        assert!(!history.consistent());
        let (_, span) = History::resume(Some(history), &check, END + 60, 60);
        assert_afresh(span);
    }

    #[test]
    fn last_season_is_kept_on_its_own_times() {
        let mut check = check();
        check.seasonality = Seasonality::Daily;
        let (mut history, span) = History::resume(None, &check, END, 60);
        let day = 86_400;
        let season_span = Span {
            start: span.start - day,
            end: span.end - day,
        };
        history.take(
            &check,
            Shard::ONE,
            span,
            Read {
                current: series(span, 60, &["api"], value),
                season: series(season_span, 60, &["api"], |t| value(t) + 1.0),
                presence: Vec::new(),
            },
        );
        assert_eq!(
            window(&history, &check).season,
            series(season_span, 60, &["api"], |t| value(t) + 1.0)
        );
    }

    #[test]
    fn values_are_stored_exactly_and_compactly() {
        let values: Vec<f64> = (0..361)
            .map(|i| match i % 7 {
                0 => f64::NAN,
                1 => 0.0,
                2 => f64::INFINITY,
                _ => value(i) * 1e-7 - 3.5,
            })
            .collect();
        let bytes = xor_floats::encode(&values);
        let back = xor_floats::decode(&bytes).expect("decodes");
        assert!(values
            .iter()
            .zip(&back)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(back.len(), values.len());
        assert!(
            xor_floats::encode(&[0.0; 361]).len() == 361,
            "a constant, a byte a step"
        );
        assert!(xor_floats::decode(&[0x12]).is_err());
        assert!(xor_floats::decode(&[0x44]).is_err());
        let stored = StoredSeries {
            labels: labels("api"),
            values,
        };
        let json = serde_json::to_string(&stored).expect("serialises");
        let again: StoredSeries = serde_json::from_str(&json).expect("parses");
        assert_eq!(again.values.len(), 361);
        assert!(serde_json::from_str::<StoredSeries>(r#"{"labels":{},"values":"!!"}"#).is_err());
    }
}

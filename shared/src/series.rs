//! Series and samples: the values every metrics source returns, whatever its wire format.

use std::collections::BTreeMap;

/// A series' label set.
pub type Labels = BTreeMap<String, String>;

/// One series of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series labels.
    pub labels: Labels,
    /// The value, which may be `NaN` or infinite.
    pub value: f64,
}

/// One series of a range result: `(unix_seconds, value)` points in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series labels.
    pub labels: Labels,
    /// The points, in time order.
    pub points: Points,
}

/// Most slots a series on a time grid may span, gaps included. Prometheus returns at most
/// 11,000 points per series; a wider span is kept as pairs, so a hostile timestamp cannot make
/// a gap cost memory.
const MAX_GRID_SLOTS: usize = 16_384;

/// A range series' `(unix_seconds, value)` points, stored compactly: on a regular time grid
/// (as `query_range` returns them) only the values are kept, half the memory of pairs. A
/// `NaN` sample and a missing one are the same here, as everywhere in Vigil: no data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Points(Layout);

#[derive(Debug, Clone, PartialEq)]
enum Layout {
    /// `values[i]` is at `start + i × step`; `NaN` where there is no sample. `step` is 0
    /// until a second point sets it.
    Grid {
        start: f64,
        step: f64,
        values: Vec<f64>,
    },
    /// Any other times, as given.
    Pairs(Vec<(f64, f64)>),
}

impl Default for Layout {
    fn default() -> Self {
        Self::Grid {
            start: 0.0,
            step: 0.0,
            values: Vec::new(),
        }
    }
}

impl Points {
    /// Appends a point, later than every point before it.
    // Times are compared exactly on purpose: the grid gives back the very times it was given.
    #[allow(clippy::float_cmp)]
    pub fn push(&mut self, time: f64, value: f64) {
        if let Layout::Grid {
            start,
            step,
            values,
        } = &mut self.0
        {
            if values.is_empty() {
                *start = time;
                values.push(value);
                return;
            }
            if *step == 0.0 && values.len() == 1 {
                let gap = time - *start;
                if gap > 0.0 && *start + gap == time {
                    *step = gap;
                    values.push(value);
                    return;
                }
            } else if *step > 0.0 {
                // Most samples land on the next slot; a gap is found by division.
                #[allow(clippy::cast_precision_loss)]
                let next = values.len() as f64;
                let slot = if *start + next * *step == time {
                    next
                } else {
                    ((time - *start) / *step).round()
                };
                #[allow(clippy::cast_precision_loss)]
                let fits = slot >= values.len() as f64 && slot < MAX_GRID_SLOTS as f64;
                if fits && *start + slot * *step == time {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    values.resize(slot as usize, f64::NAN);
                    values.push(value);
                    return;
                }
            }
            let pairs = self.iter().chain([(time, value)]).collect();
            self.0 = Layout::Pairs(pairs);
            return;
        }
        if let Layout::Pairs(pairs) = &mut self.0 {
            pairs.push((time, value));
        }
    }

    /// The points in time order; on a grid, the slots without a sample are skipped.
    pub fn iter(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let (grid, pairs) = match &self.0 {
            Layout::Grid {
                start,
                step,
                values,
            } => (Some((*start, *step, values)), None),
            Layout::Pairs(pairs) => (None, Some(pairs)),
        };
        #[allow(clippy::cast_precision_loss)]
        let on_grid = grid.into_iter().flat_map(|(start, step, values)| {
            values
                .iter()
                .enumerate()
                .filter(|(_, value)| !value.is_nan())
                .map(move |(slot, value)| (start + slot as f64 * step, *value))
        });
        on_grid.chain(pairs.into_iter().flatten().copied())
    }

    /// Whether there is no point.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Frees room reserved beyond the points.
    pub fn shrink_to_fit(&mut self) {
        match &mut self.0 {
            Layout::Grid { values, .. } => values.shrink_to_fit(),
            Layout::Pairs(pairs) => pairs.shrink_to_fit(),
        }
    }

    /// Bytes held for the points.
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Layout::Grid { values, .. } => values.capacity() * std::mem::size_of::<f64>(),
            Layout::Pairs(pairs) => pairs.capacity() * std::mem::size_of::<(f64, f64)>(),
        }
    }
}

impl FromIterator<(f64, f64)> for Points {
    fn from_iter<I: IntoIterator<Item = (f64, f64)>>(points: I) -> Self {
        let mut all = Self::default();
        for (time, value) in points {
            all.push(time, value);
        }
        all.shrink_to_fit();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(pairs: &[(f64, f64)]) -> Points {
        pairs.iter().copied().collect()
    }

    #[test]
    fn a_grid_keeps_only_values_and_gives_back_every_point() {
        let pairs: Vec<(f64, f64)> = [0, 1, 2, 5, 6]
            .iter()
            .map(|&i| (1_700_000_000.0 + 60.0 * f64::from(i), f64::from(i) * 1.5))
            .collect();
        let stored = points(&pairs);
        assert_eq!(
            stored.iter().collect::<Vec<_>>(),
            pairs,
            "the gap stays a gap"
        );
        assert_eq!(stored.heap_bytes(), 7 * 8, "seven slots, two of them empty");
    }

    #[test]
    fn off_grid_times_are_kept_as_given() {
        let pairs = [(10.0, 1.0), (20.0, 2.0), (25.0, 3.0), (40.0, 4.0)];
        let stored = points(&pairs);
        assert_eq!(stored.iter().collect::<Vec<_>>(), pairs);
        assert_eq!(stored.heap_bytes(), 4 * 16);
        let fractional = [(0.5, 1.0), (15.25, 2.0), (30.0, 3.0)];
        assert_eq!(points(&fractional).iter().collect::<Vec<_>>(), fractional);
    }

    #[test]
    fn a_hostile_timestamp_cannot_make_a_gap_cost_memory() {
        let pairs = [(0.0, 1.0), (60.0, 2.0), (6.0e15, 3.0)];
        let stored = points(&pairs);
        assert_eq!(stored.iter().collect::<Vec<_>>(), pairs);
        assert!(stored.heap_bytes() <= 3 * 16);
    }

    #[test]
    fn nan_is_no_data_and_infinities_are_values() {
        let stored = points(&[(0.0, 1.0), (60.0, f64::NAN), (120.0, f64::NEG_INFINITY)]);
        assert_eq!(
            stored.iter().collect::<Vec<_>>(),
            [(0.0, 1.0), (120.0, f64::NEG_INFINITY)]
        );
        assert!(points(&[]).is_empty() && points(&[(0.0, f64::NAN)]).is_empty());
    }
}

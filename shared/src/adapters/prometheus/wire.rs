//! The Prometheus HTTP API's JSON, as it is on the wire.
//!
//! The envelope is tagged by `status`, the data by `resultType`; sample values are strings
//! (`"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`) parsed into `f64`. Native-histogram samples are kept
//! apart from float samples. These types mirror the API; the client converts them into
//! [`super::QueryResult`] before anything else sees them.
//!
//! The test fixtures under `fixtures/` are responses recorded from Prometheus 2.42; the
//! native-histogram one follows the API's documented format.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::series::Points;

/// The response envelope of `/api/v1/query` and `/api/v1/query_range`.
///
/// Read through [`RawEnvelope`]: serde buffers the whole content of an internally tagged enum
/// before choosing its variant, which for a 100 MB range result costs gigabytes.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawEnvelope")]
pub enum Envelope {
    /// The query ran.
    Success {
        /// The result.
        data: Data,
        /// Non-fatal warnings (e.g. partial data from a federated backend).
        warnings: Vec<String>,
        /// Informational notices (Prometheus 2.45+).
        infos: Vec<String>,
    },
    /// The query failed.
    Error {
        /// `bad_data`, `execution`, `timeout`, `canceled`, `internal`, `unavailable`, `not_found`.
        error_type: String,
        /// Prometheus' description of the failure.
        error: String,
        /// Warnings sent along with the error.
        warnings: Vec<String>,
    },
}

/// The envelope's members as they come, in one pass.
#[derive(Debug, Deserialize)]
pub struct RawEnvelope {
    status: String,
    data: Option<Data>,
    #[serde(rename = "errorType", default)]
    error_type: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    infos: Vec<String>,
}

impl TryFrom<RawEnvelope> for Envelope {
    type Error = String;

    fn try_from(raw: RawEnvelope) -> Result<Self, String> {
        match (raw.status.as_str(), raw.data) {
            ("success", Some(data)) => Ok(Self::Success {
                data,
                warnings: raw.warnings,
                infos: raw.infos,
            }),
            ("success", None) => Err("a success envelope without data".to_owned()),
            ("error", _) => Ok(Self::Error {
                error_type: raw.error_type,
                error: raw.error,
                warnings: raw.warnings,
            }),
            (other, _) => Err(format!("unknown status {other:?}")),
        }
    }
}

/// The `data` member, tagged by `resultType`.
#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum Data {
    /// An instant vector.
    Vector(Vec<InstantSample>),
    /// A range vector: one series per label set.
    Matrix(Vec<RangeSeries>),
    /// A scalar: `[time, "value"]`.
    Scalar(Point),
    /// A string: `[time, "value"]`.
    String((f64, String)),
}

/// One series of an instant vector.
#[derive(Debug, Deserialize)]
pub struct InstantSample {
    /// The series labels.
    #[serde(default)]
    pub metric: BTreeMap<String, String>,
    /// A float sample.
    pub value: Option<Point>,
    /// A native-histogram sample.
    pub histogram: Option<(f64, NativeHistogram)>,
}

/// One series of a range vector.
#[derive(Debug, Deserialize)]
pub struct RangeSeries {
    /// The series labels.
    #[serde(default)]
    pub metric: BTreeMap<String, String>,
    /// Float samples in time order.
    #[serde(default, deserialize_with = "compact_points")]
    pub values: Points,
    /// Native-histogram samples in time order.
    #[serde(default)]
    pub histograms: Vec<(f64, NativeHistogram)>,
}

/// A float sample: `[unix_seconds, "value"]`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Point(pub f64, #[serde(deserialize_with = "quoted_float")] pub f64);

/// A native histogram as the API renders it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NativeHistogram {
    /// The observation count.
    #[serde(deserialize_with = "quoted_float")]
    pub count: f64,
    /// The sum of observations.
    #[serde(deserialize_with = "quoted_float")]
    pub sum: f64,
    /// `[boundary_rule, "lower", "upper", "count"]` buckets.
    #[serde(default)]
    pub buckets: Vec<(u8, String, String, String)>,
}

/// Reads a series' samples straight into [`Points`], one at a time: a 10,000-series result
/// never holds its samples as pairs, nor room for more of them than it has.
fn compact_points<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Points, D::Error> {
    struct Samples;
    impl<'de> serde::de::Visitor<'de> for Samples {
        type Value = Points;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("an array of [time, \"value\"] samples")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Points, A::Error> {
            let mut points = Points::default();
            while let Some(Point(time, value)) = seq.next_element()? {
                points.push(time, value);
            }
            points.shrink_to_fit();
            Ok(points)
        }
    }
    deserializer.deserialize_seq(Samples)
}

/// Parses Prometheus' quoted floats, including `NaN`, `+Inf` and `-Inf`, from the text as it
/// is read: a streamed response allocates nothing per sample.
fn quoted_float<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    struct QuotedFloat;
    impl serde::de::Visitor<'_> for QuotedFloat {
        type Value = f64;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a Prometheus float")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<f64, E> {
            parse_float(text).ok_or_else(|| {
                E::invalid_value(serde::de::Unexpected::Str(text), &"a Prometheus float")
            })
        }
    }
    deserializer.deserialize_str(QuotedFloat)
}

/// Parses a sample value as Prometheus writes it (Go's `strconv.FormatFloat` plus `±Inf`/`NaN`).
pub fn parse_float(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok().filter(|v: &f64| v.is_finite()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Envelope {
        serde_json::from_str(json).expect("parses")
    }

    #[test]
    fn a_vector_with_special_values_parses() {
        let envelope = parse(include_str!("fixtures/vector_special_values.json"));
        let Envelope::Success {
            data: Data::Vector(samples),
            warnings,
            infos,
        } = envelope
        else {
            panic!("expected a vector");
        };
        assert!(warnings.is_empty() && infos.is_empty());
        let values: Vec<f64> = samples.iter().map(|s| s.value.expect("float").1).collect();
        assert!((values[0] - 0.904_345_054_637_152_8).abs() < 1e-15);
        assert!(values[1].is_nan());
        assert!(values[2].is_infinite() && values[2].is_sign_positive());
        assert!(values[3].is_infinite() && values[3].is_sign_negative());
        assert_eq!(samples[0].metric["service"], "checkout");
        assert_eq!(samples[1].metric["service"], "idle");
    }

    #[test]
    fn a_matrix_parses_in_time_order() {
        let envelope = parse(include_str!("fixtures/matrix.json"));
        let Envelope::Success {
            data: Data::Matrix(series),
            ..
        } = envelope
        else {
            panic!("expected a matrix");
        };
        assert_eq!(series.len(), 2);
        assert_eq!(
            series[0].values.iter().next(),
            Some((1_793_494_800.0, 10.0))
        );
        let second: Vec<(f64, f64)> = series[1].values.iter().collect();
        assert_eq!(second.len(), 4);
        assert!(second.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn a_series_on_the_grid_holds_its_values_and_nothing_more() {
        let points: Vec<String> = (0..361)
            .map(|i| format!("[{}, \"{i}\"]", 1_700_000_000 + 60 * i))
            .collect();
        let json = format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{}},"values":[{}]}}]}}}}"#,
            points.join(",")
        );
        let Envelope::Success {
            data: Data::Matrix(series),
            ..
        } = parse(&json)
        else {
            panic!("expected a matrix");
        };
        assert_eq!(series[0].values.iter().count(), 361);
        assert_eq!(
            series[0].values.heap_bytes(),
            361 * 8,
            "values only, no spare room"
        );
    }

    #[test]
    fn scalar_string_and_histogram_results_parse() {
        let scalar = parse(
            r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"-Inf"]}}"#,
        );
        assert!(
            matches!(scalar, Envelope::Success { data: Data::Scalar(Point(_, v)), .. } if v == f64::NEG_INFINITY)
        );
        let string = parse(
            r#"{"status":"success","data":{"resultType":"string","result":[1700000000,"hello"]}}"#,
        );
        assert!(
            matches!(string, Envelope::Success { data: Data::String((_, ref s)), .. } if s == "hello")
        );
        let histogram = parse(include_str!("fixtures/native_histogram.json"));
        let Envelope::Success {
            data: Data::Vector(samples),
            ..
        } = histogram
        else {
            panic!("expected a vector");
        };
        let (_, h) = samples[0].histogram.as_ref().expect("histogram sample");
        assert_eq!((h.count, h.buckets.len()), (10.0, 2));
        assert!(samples[0].value.is_none());
    }

    #[test]
    fn errors_and_warnings_parse() {
        let error = parse(include_str!("fixtures/bad_data.json"));
        assert!(
            matches!(error, Envelope::Error { ref error_type, ref error, .. }
            if error_type == "bad_data" && error.contains("parse error"))
        );
        let warned = parse(
            r#"{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["partial response"],"infos":["PromQL info: metric might not be a counter"]}"#,
        );
        let Envelope::Success {
            warnings, infos, ..
        } = warned
        else {
            panic!("expected success");
        };
        assert_eq!((warnings.len(), infos.len()), (1, 1));
    }

    #[test]
    fn an_unparseable_value_is_an_error_not_a_zero() {
        let result = serde_json::from_str::<Envelope>(
            r#"{"status":"success","data":{"resultType":"scalar","result":[1,"twelve"]}}"#,
        );
        assert!(result.is_err());
    }
}

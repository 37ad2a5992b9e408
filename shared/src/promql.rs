//! PromQL built from typed parts, never by pasting strings together.
//!
//! Metric and label names are validated when they enter the program (they come from
//! configuration), and label values are escaped as PromQL string literals when a selector is
//! rendered, so a hostile value such as a service called `a"} or vector(1) #` stays one string.
//!
//! ```
//! use vigil_core::promql::{LabelName, MetricName, Selector};
//!
//! let metric = MetricName::new("http_requests_total").unwrap();
//! let service = LabelName::new("service").unwrap();
//! let selector = Selector::new(metric).equal(service, "a\"b");
//! assert_eq!(selector.to_string(), r#"http_requests_total{service="a\"b"}"#);
//! ```

use std::fmt::{self, Display, Write as _};

use thiserror::Error;

/// A name that is not a valid Prometheus metric or label name.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{kind} name {name:?} is not valid: expected {pattern}")]
pub struct InvalidName {
    kind: &'static str,
    name: String,
    pattern: &'static str,
}

fn is_name(name: &str, allow_colon: bool) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (allow_colon && c == ':'));
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (allow_colon && c == ':'))
}

/// A metric name matching `[a-zA-Z_:][a-zA-Z0-9_:]*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetricName(String);

impl MetricName {
    /// Validates a metric name.
    ///
    /// # Errors
    /// [`InvalidName`] when `name` does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    pub fn new(name: &str) -> Result<Self, InvalidName> {
        if is_name(name, true) {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidName {
                kind: "metric",
                name: name.to_owned(),
                pattern: "[a-zA-Z_:][a-zA-Z0-9_:]*",
            })
        }
    }

    /// The name as written in PromQL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Display for MetricName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A label name matching `[a-zA-Z_][a-zA-Z0-9_]*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LabelName(String);

impl LabelName {
    /// Validates a label name.
    ///
    /// # Errors
    /// [`InvalidName`] when `name` does not match `[a-zA-Z_][a-zA-Z0-9_]*`.
    pub fn new(name: &str) -> Result<Self, InvalidName> {
        if is_name(name, false) {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidName {
                kind: "label",
                name: name.to_owned(),
                pattern: "[a-zA-Z_][a-zA-Z0-9_]*",
            })
        }
    }

    /// The name as written in PromQL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Display for LabelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Writes `value` as a double-quoted PromQL string literal.
///
/// PromQL string literals follow Go's escaping rules: backslash and double quote are
/// escaped, control characters are written as `\n`, `\t`, … or `\u00XX`, and every other
/// character (all of Unicode) stands as itself.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                // Every char that `is_control` accepts lies in U+0000..=U+009F.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// How a label matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`, the value is an RE2 regular expression anchored at both ends.
    Regex,
    /// `!~`
    NotRegex,
}

impl MatchOp {
    fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::NotEqual => "!=",
            Self::Regex => "=~",
            Self::NotRegex => "!~",
        }
    }
}

/// One label matcher; the value is escaped when rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// The label the matcher tests.
    pub label: LabelName,
    /// The comparison.
    pub op: MatchOp,
    /// The raw value (a regular expression for the regex operators).
    pub value: String,
}

/// A series selector: a metric name and label matchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    metric: MetricName,
    matchers: Vec<Matcher>,
}

impl Selector {
    /// A selector of every series of `metric`.
    pub fn new(metric: MetricName) -> Self {
        Self {
            metric,
            matchers: Vec::new(),
        }
    }

    /// Adds a matcher.
    #[must_use]
    pub fn with(mut self, label: LabelName, op: MatchOp, value: impl Into<String>) -> Self {
        self.matchers.push(Matcher {
            label,
            op,
            value: value.into(),
        });
        self
    }

    /// Adds an equality matcher.
    #[must_use]
    pub fn equal(self, label: LabelName, value: impl Into<String>) -> Self {
        self.with(label, MatchOp::Equal, value)
    }

    /// The matchers, in the order they were added.
    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }
}

impl Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.metric.as_str())?;
        if self.matchers.is_empty() {
            return Ok(());
        }
        f.write_char('{')?;
        for (index, matcher) in self.matchers.iter().enumerate() {
            if index > 0 {
                f.write_char(',')?;
            }
            write!(
                f,
                "{}{}{}",
                matcher.label,
                matcher.op.as_str(),
                quote(&matcher.value)
            )?;
        }
        f.write_char('}')
    }
}

/// A range duration in whole seconds, as written inside `[...]` or after `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeSeconds(pub u64);

impl Display for RangeSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0)
    }
}

/// `sum by (<by>) (increase(<selector>[<range>]))`.
pub fn sum_increase_by(by: &[&LabelName], selector: &Selector, range: RangeSeconds) -> String {
    format!(
        "sum by ({}) (increase({selector}[{range}]))",
        join_labels(by)
    )
}

/// `sum by (<by>) (rate(<selector>[<range>]))`.
pub fn sum_rate_by(by: &[&LabelName], selector: &Selector, range: RangeSeconds) -> String {
    format!("sum by ({}) (rate({selector}[{range}]))", join_labels(by))
}

/// `histogram_quantile(<q>, sum by (<by>, le) (increase(<buckets>[<range>])))`.
pub fn histogram_quantile_by(
    quantile: f64,
    by: &[&LabelName],
    buckets: &Selector,
    range: RangeSeconds,
) -> String {
    format!(
        "histogram_quantile({quantile}, sum by ({}, le) (increase({buckets}[{range}])))",
        join_labels(by)
    )
}

fn join_labels(labels: &[&LabelName]) -> String {
    labels
        .iter()
        .map(|label| label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads one PromQL double-quoted string literal at the start of `input`, the way
    /// Prometheus' lexer and Go's `strconv.Unquote` do; returns the value and the rest.
    fn unquote(input: &str) -> Option<(String, &str)> {
        let mut chars = input.char_indices();
        if chars.next()?.1 != '"' {
            return None;
        }
        let mut value = String::new();
        while let Some((index, c)) = chars.next() {
            match c {
                '"' => return Some((value, &input[index + 1..])),
                '\n' => return None,
                '\\' => match chars.next()?.1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    'r' => value.push('\r'),
                    't' => value.push('\t'),
                    'u' => {
                        let hex: String =
                            (0..4).filter_map(|_| chars.next().map(|p| p.1)).collect();
                        value.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    _ => return None,
                },
                c => value.push(c),
            }
        }
        None
    }

    /// A parsed matcher: label, operator, unescaped value.
    type ParsedMatcher = (String, String, String);

    /// Parses `metric{label="value",...}` back into its parts.
    fn parse_selector(input: &str) -> Option<(String, Vec<ParsedMatcher>)> {
        let open = input.find('{')?;
        let metric = input[..open].to_owned();
        let mut rest = &input[open + 1..];
        let mut matchers = Vec::new();
        loop {
            let name_end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
            let name = rest[..name_end].to_owned();
            rest = &rest[name_end..];
            let op = ["=~", "!~", "!=", "="]
                .into_iter()
                .find(|op| rest.starts_with(op))?;
            rest = &rest[op.len()..];
            let (value, after) = unquote(rest)?;
            matchers.push((name, op.to_owned(), value));
            rest = after;
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if rest == "}" {
                return Some((metric, matchers));
            } else {
                return None;
            }
        }
    }

    fn label(name: &str) -> LabelName {
        LabelName::new(name).expect("valid label name")
    }

    fn metric(name: &str) -> MetricName {
        MetricName::new(name).expect("valid metric name")
    }

    #[test]
    fn names_are_validated() {
        let cases = [
            ("http_requests_total", true, true),
            ("job:requests:rate5m", true, false),
            ("_private", true, true),
            ("9lives", false, false),
            ("", false, false),
            ("a-b", false, false),
            ("a{b}", false, false),
            ("ümlaut", false, false),
        ];
        for (name, metric_ok, label_ok) in cases {
            assert_eq!(MetricName::new(name).is_ok(), metric_ok, "metric {name:?}");
            assert_eq!(LabelName::new(name).is_ok(), label_ok, "label {name:?}");
        }
    }

    #[test]
    fn quoting_escapes_what_would_end_or_break_the_literal() {
        let cases = [
            ("plain", r#""plain""#),
            ("a\"b", r#""a\"b""#),
            ("back\\slash", r#""back\\slash""#),
            ("new\nline", r#""new\nline""#),
            ("bell\u{7}", r#""bell\u0007""#),
            ("ünïcödé ✓", "\"ünïcödé ✓\""),
            ("}{,=~", "\"}{,=~\""),
        ];
        for (value, expected) in cases {
            assert_eq!(quote(value), expected, "{value:?}");
        }
    }

    #[test]
    fn queries_have_the_expected_shape() {
        let selector = Selector::new(metric("http_requests_total")).with(
            label("status"),
            MatchOp::Regex,
            "5..",
        );
        assert_eq!(
            sum_increase_by(&[&label("service")], &selector, RangeSeconds(86_400)),
            r#"sum by (service) (increase(http_requests_total{status=~"5.."}[86400s]))"#
        );
        let buckets = Selector::new(metric("http_request_duration_seconds_bucket"));
        assert_eq!(
            histogram_quantile_by(0.99, &[&label("service")], &buckets, RangeSeconds(3600)),
            "histogram_quantile(0.99, sum by (service, le) (increase(http_request_duration_seconds_bucket[3600s])))"
        );
    }

    proptest! {
        /// No value, however hostile, changes the structure of the selector: it parses back
        /// into the same metric and exactly the matchers that were put in, values intact.
        #[test]
        fn no_label_value_changes_the_selector_structure(
            service in any::<String>(),
            other in "[\\\\\"{}\\n\\r\\t,=~!\\u{0}-\\u{1f}\\u{7f}-\\u{9f}a-zé✓]{0,24}",
        ) {
            let selector = Selector::new(metric("http_requests_total"))
                .equal(label("service"), service.clone())
                .with(label("path"), MatchOp::NotRegex, other.clone());
            let rendered = selector.to_string();
            let (parsed_metric, matchers) = parse_selector(&rendered).expect("parses back");
            prop_assert_eq!(parsed_metric, "http_requests_total");
            prop_assert_eq!(matchers, vec![
                ("service".to_owned(), "=".to_owned(), service),
                ("path".to_owned(), "!~".to_owned(), other),
            ]);
            prop_assert!(!rendered.contains('\n'));
        }
    }
}

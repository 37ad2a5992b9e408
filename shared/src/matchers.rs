//! Label matchers, as silences and mute windows use them: `label=value` compares exactly,
//! `label=~regex` matches an RE2 expression against the whole value; a label an alert lacks is
//! the empty string.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// How a matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchOp {
    /// Equal.
    #[serde(rename = "=")]
    Equal,
    /// Matches the RE2 expression, anchored at both ends.
    #[serde(rename = "=~")]
    Regex,
}

/// One condition on one label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    /// The label.
    pub label: String,
    /// How it compares.
    pub op: MatchOp,
    /// The value or expression.
    pub value: String,
}

impl Matcher {
    /// Parses `label=value` or `label=~expression`.
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (label, rest) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?} is not label=value or label=~regex"))?;
        let (op, value) = match rest.strip_prefix('~') {
            Some(expression) => (MatchOp::Regex, expression),
            None => (MatchOp::Equal, rest),
        };
        let matcher = Self {
            label: label.trim().to_owned(),
            op,
            value: value.to_owned(),
        };
        matcher.check()?;
        Ok(matcher)
    }

    /// Checks the label name and the expression.
    ///
    /// # Errors
    /// What is wrong.
    pub fn check(&self) -> Result<(), String> {
        let label_ok = !self.label.is_empty()
            && self
                .label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !label_ok {
            return Err(format!("{:?} is not a label name", self.label));
        }
        if self.op == MatchOp::Regex {
            self.regex().map_err(|error| {
                format!("{:?} is not an RE2 regular expression: {error}", self.value)
            })?;
        }
        Ok(())
    }

    fn regex(&self) -> Result<Regex, regex::Error> {
        regex::RegexBuilder::new(&format!("^(?:{})$", self.value))
            .size_limit(1 << 20)
            .build()
    }

    /// Whether the alert's `labels` satisfy it.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.label).map_or("", String::as_str);
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::Regex => self.regex().is_ok_and(|regex| regex.is_match(value)),
        }
    }
}

//! [`Sensitive`]: a value that must never reach slotel's own logs or error messages.

use std::fmt;

/// Wraps personal or secret data (a hash key, a value being redacted) so that `Debug` and
/// `Display` print `<redacted>` instead of the value. Reading the value takes an explicit
/// [`Sensitive::expose`], which is easy to find in review.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The wrapped value; never log it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::Sensitive;

    #[test]
    fn never_prints_the_value() {
        let s = Sensitive::new("kim@example.com".to_string());
        assert_eq!(
            format!("{s:?} {s} {s:#?} {s:>20}"),
            "<redacted> <redacted> <redacted> <redacted>"
        );
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)");
        assert_eq!(s.expose(), "kim@example.com");
    }
}

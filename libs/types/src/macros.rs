//! Boilerplate shared by the string-backed identifier types.

/// Implements the common string-identifier surface for `$ty`, which must have
/// a `text: String` field and an associated
/// `fn from_string(String) -> Result<Self, IdentifierError>` that validates.
macro_rules! string_identifier {
    ($ty:ident) => {
        impl $ty {
            /// Parses `s`, rejecting anything that is not exactly a valid value
            /// (no trimming, no case folding).
            pub fn parse(s: &str) -> Result<Self, $crate::error::IdentifierError> {
                Self::from_string(s.to_owned())
            }

            /// The value exactly as written.
            pub fn as_str(&self) -> &str {
                &self.text
            }

            /// The value as an owned string.
            pub fn into_string(self) -> String {
                self.text
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::error::IdentifierError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl ::std::convert::TryFrom<String> for $ty {
            type Error = $crate::error::IdentifierError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::from_string(s)
            }
        }

        impl ::std::convert::TryFrom<&str> for $ty {
            type Error = $crate::error::IdentifierError;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl ::std::convert::From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.text
            }
        }

        impl ::std::convert::AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.text
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.text)
            }
        }

        impl ::std::cmp::PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.text == other
            }
        }

        impl ::std::cmp::PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.text == *other
            }
        }
    };
}

pub(crate) use string_identifier;

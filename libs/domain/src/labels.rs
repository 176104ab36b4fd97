//! Enums stored and shown as fixed lowercase words (`up`, `webhook`, `early_warning`). One macro
//! gives each the same text round trip, so a word read from a row, a form or the CLI becomes the
//! enum in one way everywhere, and an unknown word is an error that names what was expected.

/// A word that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}: expected one of {}", .expected.join(", "))]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

/// What every label enum can do, so storage reads any of them back the same way.
pub trait Label: Sized + Copy + 'static {
    /// The exact stored word.
    fn parse_label(word: &str) -> Result<Self, UnknownValue>;
    fn label(self) -> &'static str;
}

/// Declares a label enum: `as_str`, exact `parse` (storage), a forgiving `FromStr` (people:
/// trimmed, any case), `ALL`, `Display` and serde as the same words.
macro_rules! label_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The exact stored word.
            pub fn parse(s: &str) -> Result<Self, $crate::labels::UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::labels::UnknownValue {
                        what: $what,
                        value: s.to_owned(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }

        impl $crate::labels::Label for $name {
            fn parse_label(word: &str) -> Result<Self, $crate::labels::UnknownValue> {
                Self::parse(word)
            }
            fn label(self) -> &'static str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::labels::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(&s.trim().to_ascii_lowercase()).map_err(|mut e| {
                    e.value = s.to_owned();
                    e
                })
            }
        }
    };
}

pub(crate) use label_enum;

#[cfg(test)]
mod tests {
    use crate::{ChannelKind, NotificationKind, Status};

    #[test]
    fn labels_round_trip_and_unknown_words_say_what_was_expected() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Ok(*status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert!(Status::parse("UP").is_err(), "storage words are exact");
        assert_eq!(" Webhook ".parse::<ChannelKind>(), Ok(ChannelKind::Webhook));
        let err = "pager".parse::<ChannelKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown channel kind \"pager\": expected one of email, webhook, slack"
        );
        assert_eq!(
            serde_json::to_string(&NotificationKind::EarlyWarning).ok(),
            Some("\"early_warning\"".to_owned())
        );
    }
}

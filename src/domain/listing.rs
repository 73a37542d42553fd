//! What a link worker checks before suggesting an asset: accessibility, cost and who it
//! is for.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{AppError, AppResult};

/// A documented, fixed set of accessibility features, stored as bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Accessibility {
    StepFreeAccess,
    AccessibleToilet,
    HearingLoop,
    QuietSpace,
    DementiaFriendly,
    ChangingPlaces,
    Seating,
    AccessibleParking,
    BslInterpretation,
    LargePrint,
    AssistanceDogsWelcome,
    Lift,
}

impl Accessibility {
    pub const ALL: [Self; 12] = [
        Self::StepFreeAccess,
        Self::AccessibleToilet,
        Self::HearingLoop,
        Self::QuietSpace,
        Self::DementiaFriendly,
        Self::ChangingPlaces,
        Self::Seating,
        Self::AccessibleParking,
        Self::BslInterpretation,
        Self::LargePrint,
        Self::AssistanceDogsWelcome,
        Self::Lift,
    ];

    /// The feature's bit; the order of `ALL` is stored in databases and never changes.
    pub fn bit(self) -> i64 {
        let index = Self::ALL.iter().position(|f| *f == self).unwrap_or(0);
        1_i64 << index
    }

    /// The stable name, as the API spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::StepFreeAccess => "STEP_FREE_ACCESS",
            Self::AccessibleToilet => "ACCESSIBLE_TOILET",
            Self::HearingLoop => "HEARING_LOOP",
            Self::QuietSpace => "QUIET_SPACE",
            Self::DementiaFriendly => "DEMENTIA_FRIENDLY",
            Self::ChangingPlaces => "CHANGING_PLACES",
            Self::Seating => "SEATING",
            Self::AccessibleParking => "ACCESSIBLE_PARKING",
            Self::BslInterpretation => "BSL_INTERPRETATION",
            Self::LargePrint => "LARGE_PRINT",
            Self::AssistanceDogsWelcome => "ASSISTANCE_DOGS_WELCOME",
            Self::Lift => "LIFT",
        }
    }

    /// What the feature means, in a sentence.
    pub fn description(self) -> &'static str {
        match self {
            Self::StepFreeAccess => "Level or ramped entrance and routes inside: no steps.",
            Self::AccessibleToilet => "A toilet for wheelchair users.",
            Self::HearingLoop => "An induction loop for hearing aids.",
            Self::QuietSpace => "A quiet room or space to step away to.",
            Self::DementiaFriendly => {
                "Staff trained and a setting adapted for people living with dementia."
            }
            Self::ChangingPlaces => {
                "A Changing Places toilet: hoist, adult changing bench, room for two carers."
            }
            Self::Seating => "Somewhere to sit down, inside or along the route.",
            Self::AccessibleParking => "Blue badge or accessible parking close by.",
            Self::BslInterpretation => "British Sign Language interpretation available.",
            Self::LargePrint => "Information in large print.",
            Self::AssistanceDogsWelcome => "Assistance dogs welcome.",
            Self::Lift => "A lift to every floor used.",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn mask(features: &[Self]) -> i64 {
        features.iter().fold(0, |m, f| m | f.bit())
    }

    pub fn from_mask(mask: i64) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|f| mask & f.bit() != 0)
            .collect()
    }
}

/// A set of accessibility features: the bits stored in the database, the names the API
/// and revision snapshots use (in the fixed order of [`Accessibility::ALL`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AccessibilitySet(i64);

impl AccessibilitySet {
    pub fn of(features: &[Accessibility]) -> Self {
        Self(Accessibility::mask(features))
    }

    /// The set a stored bit mask holds (bits of no feature are dropped).
    pub fn from_mask(mask: i64) -> Self {
        Self::of(&Accessibility::from_mask(mask))
    }

    pub fn mask(self) -> i64 {
        self.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn features(self) -> Vec<Accessibility> {
        Accessibility::from_mask(self.0)
    }
}

impl Serialize for AccessibilitySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.features().into_iter().map(Accessibility::name))
    }
}

impl<'de> Deserialize<'de> for AccessibilitySet {
    /// Names this build does not know are dropped, as from stored bits.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        let features: Vec<Accessibility> = names
            .iter()
            .filter_map(|n| Accessibility::from_name(n))
            .collect();
        Ok(Self::of(&features))
    }
}

/// Who an asset is for, by age in years: either bound may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRange {
    #[serde(rename = "minAge", default)]
    pub min: Option<i32>,
    #[serde(rename = "maxAge", default)]
    pub max: Option<i32>,
}

impl AgeRange {
    pub const OLDEST: i32 = 130;

    pub fn new(min: Option<i32>, max: Option<i32>) -> AppResult<Self> {
        for (field, v) in [("minAge", min), ("maxAge", max)] {
            if let Some(v) = v
                && !(0..=Self::OLDEST).contains(&v)
            {
                return Err(AppError::invalid(
                    field,
                    format!("{field} is 0 to {}", Self::OLDEST),
                ));
            }
        }
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            return Err(AppError::invalid(
                "maxAge",
                "maxAge is not less than minAge",
            ));
        }
        Ok(Self { min, max })
    }

    pub fn check_age(age: i32) -> AppResult<i32> {
        if (0..=Self::OLDEST).contains(&age) {
            Ok(age)
        } else {
            Err(AppError::invalid(
                "age",
                format!("age is 0 to {}", Self::OLDEST),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_round_trip_through_bits() {
        let some = vec![Accessibility::HearingLoop, Accessibility::Lift];
        assert_eq!(Accessibility::from_mask(Accessibility::mask(&some)), some);
        assert_eq!(Accessibility::StepFreeAccess.bit(), 1);
        assert_eq!(Accessibility::Lift.bit(), 1 << 11);
    }

    #[test]
    fn ages() {
        assert!(AgeRange::new(Some(18), Some(11)).is_err());
        assert!(AgeRange::new(Some(-1), None).is_err());
        assert_eq!(
            AgeRange::new(None, Some(25)).ok().and_then(|r| r.max),
            Some(25)
        );
        assert!(AgeRange::check_age(131).is_err());
    }
}

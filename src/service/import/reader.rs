//! Reading a GeoJSON FeatureCollection feature by feature: from a value in memory, or
//! streamed from a file of any size on a blocking thread, in constant memory.

use serde_json::Value;
use tokio::sync::mpsc;

use crate::domain::ValidGeometry;
use crate::error::{AppError, AppResult};

/// Features on their way to the importer, one by one; an `Err` aborts the import.
pub type FeatureReceiver = mpsc::Receiver<AppResult<Value>>;

fn check_collection_crs(crs: &Value) -> AppResult<()> {
    // the same rule as for a geometry's own crs
    let probe = serde_json::json!({"type": "Point", "coordinates": [0.0, 0.0], "crs": crs});
    ValidGeometry::parse(&probe)?;
    Ok(())
}

/// The features of a FeatureCollection held in memory, as a receiver.
pub fn features_of(collection: &Value) -> AppResult<FeatureReceiver> {
    if collection.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(AppError::invalid(
            "file",
            "expected a GeoJSON FeatureCollection",
        ));
    }
    if let Some(crs) = collection.get("crs") {
        check_collection_crs(crs)?;
    }
    let features = collection
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| AppError::invalid("file", "the FeatureCollection has no features array"))?;
    let (tx, rx) = mpsc::channel(features.len().max(1));
    for feature in features {
        // the channel holds them all, so this never waits or fails
        let _ = tx.try_send(Ok(feature.clone()));
    }
    Ok(rx)
}

/// Reads a FeatureCollection from `reader` on a blocking thread, one feature at a time,
/// so a file of any size is imported in constant memory.
pub fn read_features(reader: impl std::io::Read + Send + 'static) -> FeatureReceiver {
    let (tx, rx) = mpsc::channel(1024);
    tokio::task::spawn_blocking(move || {
        let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(
            1 << 16,
            reader,
        ));
        let result =
            serde::de::DeserializeSeed::deserialize(stream::Collection { tx: &tx }, &mut de)
                .and_then(|()| de.end());
        if let Err(e) = result {
            // the receiver may be gone already (an earlier error); nothing more to tell
            let _ = tx.blocking_send(Err(AppError::invalid(
                "file",
                format!("not a GeoJSON FeatureCollection: {e}"),
            )));
        }
    });
    rx
}

/// A streaming reader of `{"type": "FeatureCollection", "features": [...]}`.
mod stream {
    use std::fmt;

    use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::Value;
    use tokio::sync::mpsc;

    use crate::error::AppResult;

    pub struct Collection<'a> {
        pub tx: &'a mpsc::Sender<AppResult<Value>>,
    }

    impl<'de> DeserializeSeed<'de> for Collection<'_> {
        type Value = ();

        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for Collection<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a GeoJSON FeatureCollection object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut saw_features = false;
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    "type" => {
                        let kind: String = map.next_value()?;
                        if kind != "FeatureCollection" {
                            return Err(de::Error::custom(format!("its type is {kind:?}")));
                        }
                    }
                    "crs" => {
                        let crs: Value = map.next_value()?;
                        super::check_collection_crs(&crs)
                            .map_err(|e| de::Error::custom(e.message()))?;
                    }
                    "features" => {
                        map.next_value_seed(Features { tx: self.tx })?;
                        saw_features = true;
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            if saw_features {
                Ok(())
            } else {
                Err(de::Error::custom("it has no features array"))
            }
        }
    }

    struct Features<'a> {
        tx: &'a mpsc::Sender<AppResult<Value>>,
    }

    impl<'de> DeserializeSeed<'de> for Features<'_> {
        type Value = ();

        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for Features<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of features")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(feature) = seq.next_element::<Value>()? {
                if self.tx.blocking_send(Ok(feature)).is_err() {
                    return Err(de::Error::custom("the import stopped"));
                }
            }
            Ok(())
        }
    }
}

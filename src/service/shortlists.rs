//! Shortlists: a link worker picks a handful of assets, adds a note, and hands the
//! resident a short code (on their phone or a printout) that anyone can open without
//! signing in. A shortlist holds no personal data: the API takes no name, NHS number,
//! address or phone number for it, and refuses a note that looks like one. It expires.

use chrono::Duration;
use entity::{asset, shortlist, shortlist_item};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::Db;
use crate::domain::{AssetStatus, Moderation, Text};
use crate::error::{AppError, AppResult};

pub const MAX_ITEMS: usize = 20;
pub const NOTE_MAX: usize = 1_000;
/// 12 symbols of 32: 60 random bits.
pub const CODE_LEN: usize = 12;
/// Crockford's base 32 in lower case: no i, l, o or u to misread.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

fn new_code() -> AppResult<String> {
    let mut bytes = [0_u8; CODE_LEN];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect())
}

/// A code as a resident might type it: case and spaces or dashes do not matter.
pub fn normalize_code(code: &str) -> Option<String> {
    let code: String = code
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

fn looks_like_postcode(outward: &str, inward: &str) -> bool {
    let out: Vec<char> = outward.chars().collect();
    let inw: Vec<char> = inward.chars().collect();
    let inward_ok = inw.len() == 3
        && inw[0].is_ascii_digit()
        && inw[1].is_ascii_alphabetic()
        && inw[2].is_ascii_alphabetic();
    let outward_ok = (2..=4).contains(&out.len())
        && out[0].is_ascii_alphabetic()
        && out.iter().any(char::is_ascii_digit)
        && out.iter().all(char::is_ascii_alphanumeric);
    inward_ok && outward_ok
}

/// Refuses a note that looks like it holds personal data: a run of ten or more digits
/// (an NHS number, a phone number), an email address, a UK postcode.
pub fn check_note(note: Option<&str>) -> AppResult<Option<Text>> {
    let Some(note) = Text::parse_opt("note", note, NOTE_MAX)? else {
        return Ok(None);
    };
    let refuse = |what: &str| {
        Err(AppError::invalid(
            "note",
            format!(
                "the note looks like it holds {what}; a shortlist must not hold personal data (no name, NHS number, address or phone number)"
            ),
        ))
    };
    let mut run = 0;
    for c in note.as_str().chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 10 {
                return refuse("an NHS or phone number");
            }
        } else if !matches!(c, ' ' | '-' | '(' | ')' | '+' | '.') {
            run = 0;
        }
    }
    if note.as_str().split_whitespace().any(|w| {
        w.split_once('@')
            .is_some_and(|(u, h)| !u.is_empty() && h.contains('.'))
    }) {
        return refuse("an email address");
    }
    let words: Vec<String> = note
        .as_str()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let split = words.windows(2).any(|w| looks_like_postcode(&w[0], &w[1]));
    let joined = words
        .iter()
        .any(|w| w.len() > 4 && looks_like_postcode(&w[..w.len() - 3], &w[w.len() - 3..]));
    if split || joined {
        return refuse("a postcode");
    }
    Ok(Some(note))
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    asset_ids: &[Uuid],
    note: Option<Text>,
    days: u32,
) -> AppResult<(shortlist::Model, Vec<asset::Model>)> {
    let mut ids: Vec<Uuid> = Vec::with_capacity(asset_ids.len());
    for id in asset_ids {
        if !ids.contains(id) {
            ids.push(*id);
        }
    }
    if ids.is_empty() || ids.len() > MAX_ITEMS {
        return Err(AppError::invalid(
            "assetIds",
            format!("a shortlist has 1 to {MAX_ITEMS} assets"),
        ));
    }
    let txn = db.write.begin().await?;
    let published = asset::Entity::find()
        .filter(asset::Column::Id.is_in(ids.iter().copied()))
        .filter(asset::Column::Status.eq(AssetStatus::Active))
        .filter(asset::Column::Moderation.eq(Moderation::Approved))
        .all(&txn)
        .await?;
    super::require_all(
        "assetIds",
        &ids,
        &published,
        |a| a.id,
        "is not a listed asset",
    )?;
    let now = super::now();
    let list = shortlist::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(new_code()?),
        note: Set(note.map(Text::into_string)),
        created_by: Set(actor.id.clone()),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(i64::from(days))),
    }
    .insert(&txn)
    .await?;
    for (position, id) in ids.iter().enumerate() {
        shortlist_item::ActiveModel {
            shortlist_id: Set(list.id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            asset_id: Set(*id),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    let mut by_id: std::collections::HashMap<Uuid, asset::Model> =
        published.into_iter().map(|a| (a.id, a)).collect();
    let assets = ids.iter().filter_map(|id| by_id.remove(id)).collect();
    Ok((list, assets))
}

/// The shortlist with this code and its assets as they are now, in order; None when
/// there is none or it has expired.
pub async fn open(db: &Db, code: &str) -> AppResult<Option<(shortlist::Model, Vec<asset::Model>)>> {
    let Some(code) = normalize_code(code) else {
        return Ok(None);
    };
    let Some(list) = shortlist::Entity::find()
        .filter(shortlist::Column::Code.eq(code))
        .filter(shortlist::Column::ExpiresAt.gt(super::now()))
        .one(&db.read)
        .await?
    else {
        return Ok(None);
    };
    let items = shortlist_item::Entity::find()
        .filter(shortlist_item::Column::ShortlistId.eq(list.id))
        .order_by_asc(shortlist_item::Column::Position)
        .all(&db.read)
        .await?;
    let ids: Vec<Uuid> = items.iter().map(|i| i.asset_id).collect();
    let assets = super::assets::load_ordered(db, &ids).await?;
    Ok(Some((list, assets)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_with_personal_data_are_refused() {
        for bad in [
            "NHS 943 476 5919",
            "call her on 07700 900123",
            "lives at M32 8DA",
            "postcode m328da",
            "jo.bloggs@example.org",
        ] {
            assert!(check_note(Some(bad)).is_err(), "{bad}");
        }
        for good in [
            "Tuesday lunch club first, then the walking group; bus 263 stops outside",
            "Open Mo-Fr 10:00-12:00; ask for the quiet room",
            "Take the 50 bus",
        ] {
            assert!(check_note(Some(good)).is_ok(), "{good}");
        }
    }

    #[test]
    fn codes_are_random_and_forgiving() {
        let a = new_code().unwrap_or_default();
        assert_eq!(a.len(), CODE_LEN);
        assert_ne!(a, new_code().unwrap_or_default());
        let typed = format!("{}-{}", a[..6].to_uppercase(), &a[6..]);
        assert_eq!(normalize_code(&typed), Some(a));
        assert_eq!(normalize_code("short"), None);
    }
}

//! The token list: its pages and what expiry removes from it.

use super::*;

#[tokio::test]
async fn the_list_pages_by_fifty_newest_first() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let mut minted = Vec::new();
    for i in 0..120 {
        let (status, body) = create(
            &owner,
            &client_id,
            &json!({"name": format!("t{i:03}"), "scope": "repo:read"}),
        )
        .await;
        assert_eq!(status, 200);
        minted.push(body["uuid"].as_str().unwrap().to_string());
    }
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url =
            reqwest::Url::parse(&format!("{}{}", emu.url(), tokens_path(&client_id))).unwrap();
        if let Some(c) = &cursor {
            url.query_pairs_mut().append_pair("next_page", c);
        }
        let page: Value = owner
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let obj = page.as_object().unwrap();
        let names: Vec<String> = page["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["uuid"].as_str().unwrap().to_string())
            .collect();
        pages.push(names);
        match obj.get("next_page") {
            Some(next) => {
                assert_eq!(obj.len(), 2, "only tokens and next_page: {obj:?}");
                let next = next.as_str().expect("an opaque string").to_string();
                assert!(next.starts_with("gAAAAA"), "{next}");
                assert_ne!(Some(&next), cursor.as_ref());
                cursor = Some(next);
            }
            None => {
                assert_eq!(obj.len(), 1, "the last page has no next_page key");
                break;
            }
        }
        assert!(pages.len() < 5, "the list does not end");
    }
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [50, 50, 20]);
    let all: Vec<String> = pages.concat();
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), 120, "no duplicates");
    let newest_first: Vec<String> = minted.iter().rev().cloned().collect();
    assert_eq!(all, newest_first);

    // A cursor that does not open reads as none: Quay answers with the first page.
    let garbage: Value = owner
        .get(&format!("{}?next_page=garbage", tokens_path(&client_id)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(garbage["tokens"].as_array().unwrap().len(), 50);
    assert_eq!(garbage["tokens"][0]["uuid"], json!(minted[119]));
    assert!(garbage.get("next_page").is_some());

    // Revoked tokens vanish from the pages.
    for uuid in &minted[..30] {
        emu.revoke_token(uuid);
    }
    let first: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    let next = first["next_page"].as_str().unwrap();
    let url = format!(
        "{}?next_page={}",
        tokens_path(&client_id),
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let last: Value = owner.get(&url).await.json().await.unwrap();
    assert_eq!(last["tokens"].as_array().unwrap().len(), 40);
    assert!(last.get("next_page").is_none());
}

#[tokio::test]
async fn expired_tokens_are_not_listed() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let (_, short) = create(
        &owner,
        &client_id,
        &json!({"name": "short", "scope": "repo:read", "expiration": 1}),
    )
    .await;
    let (_, long) = create(
        &owner,
        &client_id,
        &json!({"name": "long", "scope": "repo:read"}),
    )
    .await;
    emu.advance_clock(std::time::Duration::from_millis(1100));
    let list: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    let uuids: Vec<&Value> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["uuid"])
        .collect();
    assert_eq!(uuids, [&long["uuid"]]);
    assert_ne!(short["uuid"], long["uuid"]);
}

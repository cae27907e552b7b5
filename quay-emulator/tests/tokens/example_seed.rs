//! The accounts of the example seed.

use super::*;

#[tokio::test]
async fn the_example_seed_has_a_superuser_and_an_ordinary_owner() {
    let text = include_str!("../../seed.example.yaml");
    let seed = Seed::parse(text, "seed.example.yaml").expect("the example parses");
    let emu = start().await;
    let apps = seed.apply(&emu).expect("applies");
    let client_id = apps[0].client_id.clone();
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let (status, _) = create(
        &owner,
        &client_id,
        &json!({"name": "seven", "scope": SEVEN}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = create(
        &owner,
        &client_id,
        &json!({"name": "su", "scope": "super:user"}),
    )
    .await;
    assert_eq!(status, 403);
    let admin = signed_in(&emu, "admin", "Sup3r53cr3L").await;
    let (status, _) = create(
        &admin,
        &client_id,
        &json!({"name": "su", "scope": "super:user"}),
    )
    .await;
    assert_eq!(status, 200);
}

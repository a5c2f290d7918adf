//! The warm path allocates nothing: once a path's nodes exist, request + release on the pure
//! table makes no heap allocation, however many holds exist elsewhere (as long as nobody
//! waits: queuing and waking allocate).

use lockstudio::{Decision, Level, LockModel, LockPath, LockTable, Owner, RequestOptions, Time};

mod counting;

use counting::allocations_in;

#[test]
fn warm_request_and_release_do_not_allocate() {
    let mut table = LockTable::new();
    let now = Time::ZERO;
    for i in 0..2000 {
        let other = LockPath::parse(&format!("/studio/s{}/img-{i}", i % 10)).unwrap();
        let granted = table.request(
            Owner::new(1000 + i),
            &other,
            Level::Write,
            RequestOptions::default(),
            now,
        );
        assert!(matches!(granted, Ok(Decision::Granted(_))));
    }
    let paths: Vec<LockPath> = ["/studio/s3/img-x", "/studio/s11/deep/er/path"]
        .iter()
        .map(|p| LockPath::parse(p).unwrap())
        .collect();
    let me = Owner::new(1);
    // Warm up: create the nodes and grow every map and vector once.
    for path in &paths {
        for level in [Level::Read, Level::Write, Level::Delete] {
            let _ = table.request(me, path, level, RequestOptions::default(), now);
            let _ = table.release(me, path, None, now);
        }
    }
    let allocated = allocations_in(|| {
        for _ in 0..1000 {
            let d = table.request(me, &paths[0], Level::Write, RequestOptions::default(), now);
            assert!(matches!(d, Ok(Decision::Granted(_))));
            assert!(table.release(me, &paths[0], None, now).is_ok());
            let d = table.request(me, &paths[1], Level::Read, RequestOptions::default(), now);
            assert!(matches!(d, Ok(Decision::Granted(_))));
            assert!(table.release(me, &paths[1], None, now).is_ok());
        }
    });
    assert_eq!(allocated, 0, "warm path allocated {allocated} times");
}

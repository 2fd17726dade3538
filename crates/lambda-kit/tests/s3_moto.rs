//! Object IO against S3 (a moto server started per test).

use std::io::{Read, Write};

use lambda_kit::testing::MotoServer;
use lambda_kit::{ObjectError, ObjectPin, ObjectStore, ObjectUrl, MIN_PART_SIZE};
use tokio::io::AsyncReadExt;

async fn setup(bucket: &str) -> (MotoServer, ObjectStore, aws_sdk_s3::Client) {
    let moto = MotoServer::start().expect("moto server");
    let s3 = moto.create_bucket(bucket).await;
    let store = moto.object_store().await.with_part_size(MIN_PART_SIZE);
    (moto, store, s3)
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

async fn open_uploads(s3: &aws_sdk_s3::Client, bucket: &str) -> usize {
    s3.list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .uploads()
        .len()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_and_multipart_objects_round_trip() {
    let (_moto, store, s3) = setup("data").await;

    let small = ObjectUrl::s3("data", "in/small.csv");
    let meta = store.put(&small, "a,b\n1,2\n").await.unwrap();
    assert_eq!(meta.size, 8);
    assert!(
        meta.etag.as_deref().is_some_and(|e| !e.contains('"')),
        "{meta:?}"
    );
    assert_eq!(store.get(&small).await.unwrap().as_ref(), b"a,b\n1,2\n");
    let head = store.head(&small).await.unwrap();
    assert_eq!((head.size, head.etag.clone()), (8, meta.etag.clone()));

    // 2 full parts + a tail, written in odd-sized chunks
    let data = pattern(2 * MIN_PART_SIZE + 12_345);
    let big = ObjectUrl::s3("data", "out/big.bin");
    let mut w = store.create(&big).await.unwrap();
    for chunk in data.chunks(1_000_003) {
        w.write(chunk).await.unwrap();
    }
    assert!(
        !keys(&s3, "data").await.contains(&"out/big.bin".to_owned()),
        "visible before finish"
    );
    let meta = w.finish().await.unwrap();
    assert_eq!(meta.size, data.len() as u64);
    assert!(
        meta.etag.as_deref().is_some_and(|e| e.ends_with("-3")),
        "multipart etag: {meta:?}"
    );

    let mut back = Vec::new();
    store
        .open(&big)
        .await
        .unwrap()
        .read_to_end(&mut back)
        .await
        .unwrap();
    assert!(
        back == data,
        "multipart object differs ({} vs {} bytes)",
        back.len(),
        data.len()
    );
    assert_eq!(open_uploads(&s3, "data").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_writes_leave_nothing() {
    let (_moto, store, s3) = setup("data").await;
    let url = ObjectUrl::s3("data", "out/aborted.bin");

    // aborted after a part was uploaded
    let mut w = store.create(&url).await.unwrap();
    w.write(&pattern(MIN_PART_SIZE + 10)).await.unwrap();
    assert_eq!(open_uploads(&s3, "data").await, 1);
    w.abort().await.unwrap();
    assert_eq!(open_uploads(&s3, "data").await, 0);

    // dropped after a part was uploaded: aborted in the background
    let mut w = store.create(&url).await.unwrap();
    w.write(&pattern(MIN_PART_SIZE + 10)).await.unwrap();
    drop(w);
    let mut left = 1;
    for _ in 0..100 {
        left = open_uploads(&s3, "data").await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "the dropped upload was not aborted");

    // dropped before the first part: nothing was ever sent
    let mut w = store.create(&url).await.unwrap();
    w.write(b"small").await.unwrap();
    drop(w);
    assert!(keys(&s3, "data").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_objects_and_buckets_are_named_errors() {
    let (_moto, store, _s3) = setup("data").await;
    let url = ObjectUrl::s3("data", "no/such/key.csv");
    for err in [
        store.open(&url).await.unwrap_err(),
        store.get(&url).await.unwrap_err(),
        store.head(&url).await.unwrap_err(),
    ] {
        assert!(matches!(err, ObjectError::NotFound { .. }), "{err:?}");
        assert!(
            err.to_string().contains("s3://data/no/such/key.csv"),
            "{err}"
        );
    }
    let err = store
        .open(&ObjectUrl::s3("nobucket", "k"))
        .await
        .unwrap_err();
    assert!(matches!(err, ObjectError::NotFound { .. }), "{err:?}");
    let err = store
        .put(&ObjectUrl::s3("nobucket", "k"), "x")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("s3://nobucket/k"), "{err}");

    // a failed part upload poisons the writer: finish publishes nothing
    let mut w = store
        .create(&ObjectUrl::s3("nobucket", "big"))
        .await
        .unwrap();
    let err = w.write(&pattern(MIN_PART_SIZE)).await.unwrap_err();
    assert!(err.to_string().contains("s3://nobucket/big"), "{err}");
    assert!(w
        .write(b"more")
        .await
        .unwrap_err()
        .to_string()
        .contains("earlier write failed"));
    let err = w.finish().await.unwrap_err();
    assert!(err.to_string().contains("earlier write failed"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_bridge_reads_and_writes_s3() {
    let (_moto, store, s3) = setup("data").await;
    let input = ObjectUrl::s3("data", "in.txt");
    let output = ObjectUrl::s3("data", "out.txt");
    let dropped = ObjectUrl::s3("data", "dropped.txt");
    let data = pattern(MIN_PART_SIZE + 777);
    store.put(&input, data.clone()).await.unwrap();

    let bs = store.blocking().unwrap();
    let (i, o, d) = (input.clone(), output.clone(), dropped.clone());
    let n = tokio::task::spawn_blocking(move || {
        let mut r = bs.open(&i).unwrap();
        let mut w = bs.create(&o).unwrap();
        let mut buf = vec![0; 64 * 1024];
        let mut total = 0;
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n]).unwrap();
            total += n;
        }
        w.finish().unwrap();
        let mut w = bs.create(&d).unwrap();
        w.write_all(b"never published").unwrap();
        drop(w);
        let mut w = bs.create(&ObjectUrl::s3("nobucket", "x")).unwrap();
        assert!(w.write_all(&vec![0; MIN_PART_SIZE]).is_err());
        let err = w.finish().unwrap_err();
        assert!(err.to_string().contains("earlier write failed"), "{err}");
        let err = bs.open(&ObjectUrl::s3("data", "missing")).unwrap_err();
        assert!(matches!(err, ObjectError::NotFound { .. }));
        total
    })
    .await
    .unwrap();
    assert_eq!(n, data.len());
    assert!(store.get(&output).await.unwrap().as_ref() == data.as_slice());
    assert!(!keys(&s3, "data").await.contains(&"dropped.txt".to_owned()));
}

/// `open_at` reads from an offset on, over S3 (a ranged GET) and local files alike, async and
/// blocking; an offset at or past the end reads nothing; a missing object is still a named error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_open_at_an_offset() {
    let (_moto, store, _s3) = setup("data").await;
    let data = pattern(300_000);
    let dir = tempfile::tempdir().unwrap();
    let local = ObjectUrl::parse(&dir.path().join("in.bin").to_string_lossy()).unwrap();
    let remote = ObjectUrl::s3("data", "in.bin");
    for url in [&remote, &local] {
        store.put(url, data.clone()).await.unwrap();
        for at in [0, 1, 65_537, data.len() - 1, data.len(), data.len() + 9] {
            let mut got = Vec::new();
            let mut r = store.open_at(url, at as u64).await.unwrap();
            r.read_to_end(&mut got).await.unwrap();
            assert!(got == data[at.min(data.len())..], "{url} at {at}");
            let bs = store.blocking().unwrap();
            let u = url.clone();
            let got = tokio::task::spawn_blocking(move || {
                let mut got = Vec::new();
                bs.open_at(&u, at as u64)
                    .unwrap()
                    .read_to_end(&mut got)
                    .unwrap();
                got
            })
            .await
            .unwrap();
            assert!(got == data[at.min(data.len())..], "{url} at {at}, blocking");
        }
    }
    let err = store
        .open_at(&ObjectUrl::s3("data", "missing"), 5)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ObjectError::NotFound { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_open_refuses_another_version_of_the_object() {
    let (_moto, store, _s3) = setup("data").await;
    let dir = tempfile::tempdir().unwrap();
    let local = ObjectUrl::parse(&dir.path().join("in.csv").to_string_lossy()).unwrap();
    let remote = ObjectUrl::s3("data", "in.csv");
    for url in [&remote, &local] {
        store.put(url, b"a,b\n1,2\n".to_vec()).await.unwrap();
        let first = store.open(url).await.unwrap();
        let pin = first.pin().cloned().expect("a pin");
        match (&pin, url) {
            (ObjectPin::ETag(e), ObjectUrl::S3 { .. }) => assert!(e.starts_with('"'), "{e}"),
            (ObjectPin::File { len, .. }, ObjectUrl::Local(_)) => assert_eq!(*len, 8),
            other => panic!("{other:?}"),
        }
        // the same version: read as usual, at any offset (past the end too), and pinned alike
        for at in [0, 4, 8, 20] {
            let mut got = Vec::new();
            let mut r = store.open_pinned(url, at, Some(&pin)).await.unwrap();
            r.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"a,b\n1,2\n"[(at as usize).min(8)..], "{url} at {at}");
        }
        // overwritten: every pinned open is refused, naming the object; unpinned ones read it
        store.put(url, b"a,b\n1,2\n3,4\n".to_vec()).await.unwrap();
        for at in [0, 4, 20] {
            let err = store.open_pinned(url, at, Some(&pin)).await.err().unwrap();
            assert!(
                matches!(err, ObjectError::Changed { .. }),
                "{url} at {at}: {err}"
            );
            assert_eq!(err.kind_name(), "ObjectChanged");
            assert!(err.to_string().contains(&url.to_string()), "{err}");
        }
        let bs = store.blocking().unwrap();
        let (u, p) = (url.clone(), pin.clone());
        let blocking = tokio::task::spawn_blocking(move || {
            let again = bs.open(&u).unwrap().pin().cloned();
            (bs.open_pinned(&u, 0, Some(&p)).err(), again)
        })
        .await
        .unwrap();
        assert!(
            matches!(blocking.0, Some(ObjectError::Changed { .. })),
            "{url}: blocking"
        );
        let now = blocking.1.expect("the new version's pin");
        assert_ne!(now, pin, "{url}");
        let mut got = Vec::new();
        let mut r = store.open_pinned(url, 4, Some(&now)).await.unwrap();
        r.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"1,2\n3,4\n", "{url}: the new version, pinned");
    }
    // a missing object is still "not found", pinned or not
    let err = store
        .open_pinned(
            &ObjectUrl::s3("data", "missing"),
            0,
            Some(&ObjectPin::ETag("\"x\"".into())),
        )
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ObjectError::NotFound { .. }), "{err}");
}

//! The stores behind bucket URLs, through `object_store`: built once per bucket from the
//! environment, listed, and read on a tokio runtime of this module's own, so that the rest of
//! the program stays synchronous (the scan's workers block on it).
//!
//! Must not let a credential into any text it makes: a store's `Debug` is never printed, and
//! errors carry the store's message about the request, which names the object, not the key
//! it was signed with.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path as Key;
use object_store::{GetOptions, ObjectMeta, ObjectStore};

use super::{Body, Object, ObjectVersion};
use crate::error::{FileError, FileErrorKind};
use crate::walk::{Candidate, CandidateKind, Filter};

/// One bucket's store and the URL its keys are appended to (`s3://bucket/`).
#[derive(Clone)]
pub(super) struct Store {
    inner: Arc<dyn ObjectStore>,
    base: Arc<str>,
}

impl std::fmt::Debug for Store {
    /// The base URL only: the store's own `Debug` would show its credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.base)
    }
}

/// The runtime every request runs on. Two threads: they wait on the network, while the
/// scan's own pool does the work.
pub(super) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mediascreen-io")
            .enable_all()
            .build()
            .expect("a tokio runtime only fails to build if threads cannot be spawned")
    })
}

/// The store of the bucket `url` is in, and the key (or prefix) the URL names in it. Stores
/// are built once per bucket: the environment is read once, and connections are reused.
fn locate(url: &str) -> Result<(Store, String), FileError> {
    static STORES: OnceLock<Mutex<HashMap<String, Store>>> = OnceLock::new();
    let (scheme, rest) = url.split_once("://").expect("is_url checked the scheme");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.is_empty() {
        return Err(bad_url(url, "it names no bucket"));
    }
    let base = format!("{scheme}://{authority}/");
    // In s3://, gs:// and az:// URLs the key is written as stored, as the clouds' own CLIs
    // take it; an http(s) URL's path is percent-encoded.
    let key = match scheme {
        "http" | "https" => percent_decode(path).ok_or_else(|| bad_url(url, "bad %-escape"))?,
        _ => path.to_string(),
    };
    let mut stores = STORES.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(store) = stores.get(&base) {
        return Ok((store.clone(), key));
    }
    let built: object_store::Result<Arc<dyn ObjectStore>> = match scheme {
        "s3" => object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(authority)
            .build()
            .map(|s| Arc::new(s) as _),
        "gs" => object_store::gcp::GoogleCloudStorageBuilder::from_env()
            .with_bucket_name(authority)
            .build()
            .map(|s| Arc::new(s) as _),
        "az" | "abfs" | "abfss" => object_store::azure::MicrosoftAzureBuilder::from_env()
            .with_url(&base)
            .build()
            .map(|s| Arc::new(s) as _),
        _ => object_store::http::HttpBuilder::new()
            .with_url(&base)
            .with_client_options(
                object_store::ClientOptions::new().with_allow_http(scheme == "http"),
            )
            .build()
            .map(|s| Arc::new(s) as _),
    };
    let inner = built
        .map_err(|e| FileError::new(FileErrorKind::Remote, format!("cannot reach {base}: {e}")))?;
    let store = Store { inner, base: base.into() };
    stores.insert(store.base.to_string(), store.clone());
    Ok((store, key))
}

fn bad_url(url: &str, why: &str) -> FileError {
    FileError::new(
        FileErrorKind::Remote,
        format!("{url} is not a bucket URL mediascreen reads: {why}"),
    )
}

/// `%XX` escapes decoded, as UTF-8; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// What a store's error means for one object or listing, by who can do what about it.
fn fault(error: object_store::Error) -> FileError {
    use object_store::Error as E;
    match error {
        E::NotFound { .. } => FileError::io(format!("not found: {error}")),
        E::Precondition { .. } | E::NotModified { .. } => {
            FileError::io(format!("the object changed while it was scanned: {error}"))
        }
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
            FileError::new(FileErrorKind::AccessDenied, error.to_string())
        }
        // A refused listing comes as a generic error whose status only its text carries
        // (object_store keeps the status type to itself).
        _ if refused(&error.to_string()) => {
            FileError::new(FileErrorKind::AccessDenied, error.to_string())
        }
        _ => FileError::new(FileErrorKind::Remote, error.to_string()),
    }
}

/// Whether a store's error text says the request was refused for its credentials or
/// permissions: the HTTP status, or the error codes S3, GCS and Azure answer with.
fn refused(text: &str) -> bool {
    const SIGNS: [&str; 8] = [
        "403 Forbidden",
        "401 Unauthorized",
        "<Code>AccessDenied</Code>",
        "<Code>InvalidAccessKeyId</Code>",
        "<Code>SignatureDoesNotMatch</Code>",
        "<Code>ExpiredToken</Code>",
        "<Code>InvalidToken</Code>",
        "<Code>AuthenticationFailed</Code>",
    ];
    SIGNS.iter().any(|sign| text.contains(sign))
}

fn key(object_key: &str) -> Result<Key, FileError> {
    Key::parse(object_key).map_err(|e| {
        FileError::new(FileErrorKind::Remote, format!("a key object_store cannot address: {e}"))
    })
}

fn version(meta: &ObjectMeta) -> ObjectVersion {
    ObjectVersion {
        etag: meta.e_tag.clone(),
        version_id: meta.version.clone(),
        last_modified: meta.last_modified.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        size: meta.size,
    }
}

fn candidate(store: &Store, meta: &ObjectMeta, pinned: bool) -> Candidate {
    let key = meta.location.as_ref().to_string();
    let path = PathBuf::from(format!("{}{key}", store.base));
    let object = Object { key, listed: version(meta), pinned, store: store.clone(), slot: None };
    Candidate { path, kind: CandidateKind::Object(Box::new(object)), id: None }
}

fn error(url: &str, error: FileError) -> Candidate {
    Candidate { path: PathBuf::from(url), kind: CandidateKind::Error(error), id: None }
}

/// See [`super::list`].
pub(super) fn list(url: &str, filter: &Filter, seen: &mut HashSet<String>) -> Vec<Candidate> {
    let (store, named) = match locate(url) {
        Ok(located) => located,
        Err(e) => return vec![error(url, e)],
    };
    let rt = runtime();
    // A policy that grants reading `photos/*` refuses a look at `photos`: that refusal is
    // only told if nothing is listed under it either.
    let mut refused = None;
    if !named.is_empty() && !named.ends_with('/') {
        let head = GetOptions { head: true, ..GetOptions::default() };
        match key(&named).map(|k| rt.block_on(store.inner.get_opts(&k, head))) {
            Ok(Ok(got)) => {
                let mut found = candidate(&store, &got.meta, false);
                if store.base.starts_with("http") {
                    found.path = PathBuf::from(url);
                }
                let shard = filter.shard.is_none_or(|s| s.takes(&found.path, &found.path));
                return if shard && seen.insert(found.path.to_string_lossy().into_owned()) {
                    vec![found]
                } else {
                    Vec::new()
                };
            }
            // No such object: the URL names a folder.
            Ok(Err(object_store::Error::NotFound { .. })) => {}
            Ok(Err(e @ object_store::Error::PermissionDenied { .. })) => refused = Some(e),
            Ok(Err(e)) => return vec![error(url, fault(e))],
            Err(e) => return vec![error(url, e)],
        }
    }
    let folder = named.trim_end_matches('/');
    let prefix = match (!folder.is_empty()).then(|| key(folder)).transpose() {
        Ok(prefix) => prefix,
        Err(e) => return vec![error(url, e)],
    };
    let mut listing = store.inner.list(prefix.as_ref());
    let (mut metas, mut failed) = (Vec::new(), None);
    rt.block_on(async {
        while let Some(item) = listing.next().await {
            match item {
                Ok(meta) => metas.push(meta),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
    });
    // In the order a folder of the same names is walked (name by name: `a/x` before
    // `a.b/x`), so that a bucket's shards merge into the report of one scan.
    metas.sort_by(|a, b| a.location.as_ref().split('/').cmp(b.location.as_ref().split('/')));
    if let (Some(e), true) = (refused, metas.is_empty() && failed.is_none()) {
        return vec![error(url, fault(e))];
    }
    let mut out = Vec::new();
    for meta in &metas {
        let relative = meta.location.as_ref()[folder.len()..].trim_start_matches('/');
        if !filter.keeps_key(relative) {
            continue;
        }
        let found = candidate(&store, meta, false);
        if seen.insert(found.path.to_string_lossy().into_owned()) {
            out.push(found);
        }
    }
    if let Some(e) = failed {
        let mut e = fault(e);
        let what = match metas.len() {
            0 => "cannot list the objects: ".to_string(),
            n => format!("the listing stopped after {n} objects; the rest were not screened: "),
        };
        e.reason = e.reason.prefixed(&what);
        out.push(error(url, e));
    }
    out
}

/// See [`super::named`].
pub(super) fn named(objects: &[super::event::EventObject]) -> Vec<Candidate> {
    let rt = runtime();
    objects
        .iter()
        .map(|o| {
            let url = format!("s3://{}/{}", o.bucket, o.key);
            let head =
                GetOptions { head: true, version: o.version_id.clone(), ..GetOptions::default() };
            let found = locate(&format!("s3://{}/", o.bucket)).and_then(|(store, _)| {
                let got = rt.block_on(store.inner.get_opts(&key(&o.key)?, head)).map_err(fault)?;
                Ok(candidate(&store, &got.meta, o.version_id.is_some()))
            });
            found.unwrap_or_else(|e| error(&url, e))
        })
        .collect()
}

/// See [`super::read`].
pub(super) fn read(
    object: &Object,
    max_file_size: u64,
) -> Result<(Body, ObjectVersion), FileError> {
    if let Some(slot) = &object.slot {
        return slot.take().map(|(bytes, version)| (Body::Held(bytes), version));
    }
    let rt = runtime();
    // An empty object (or a console's folder marker, `photos/`, whose trailing slash the
    // store's listing drops) has no bytes to fetch.
    if object.listed.size == 0 && !object.pinned {
        return Ok((Body::Held(Vec::new()), object.listed.clone()));
    }
    if object.listed.size <= max_file_size {
        let (bytes, version) = rt.block_on(fetch(object))?;
        return Ok((Body::Held(bytes), version));
    }
    let (stream, version) = rt.block_on(open(object))?;
    Ok((
        Body::Streamed(Box::new(Blocking {
            stream,
            chunk: Default::default(),
            read: 0,
            size: version.size,
        })),
        version,
    ))
}

/// Starts reading `object`: the listed version, checked.
async fn open(
    object: &Object,
) -> Result<(BoxStream<'static, object_store::Result<Bytes>>, ObjectVersion), FileError> {
    let options = GetOptions {
        version: object.listed.version_id.clone().filter(|_| object.pinned),
        ..GetOptions::default()
    };
    let got = object.store.inner.get_opts(&key(&object.key)?, options).await.map_err(fault)?;
    let version = version(&got.meta);
    if !object.pinned && object.listed.etag.is_some() && version.etag != object.listed.etag {
        return Err(FileError::io(format!(
            "the object changed between listing and reading (ETag {} then {})",
            object.listed.etag.as_deref().unwrap_or(""),
            version.etag.as_deref().unwrap_or("none")
        )));
    }
    Ok((got.into_stream(), version))
}

/// The whole of `object`, read to its end: exactly as many bytes as the store declared, or
/// an error (a body cut short by a dropped connection is not the object).
pub(super) async fn fetch(object: &Object) -> Result<(Vec<u8>, ObjectVersion), FileError> {
    let (mut stream, version) = open(object).await?;
    let size = version.size;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 30));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(fault)?;
        if (bytes.len() + chunk.len()) as u64 > size {
            return Err(FileError::new(
                FileErrorKind::Remote,
                format!("the body ran past the {size} bytes the store declared"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.len() as u64 != size {
        return Err(cut_short(bytes.len() as u64, size));
    }
    Ok((bytes, version))
}

fn cut_short(read: u64, size: u64) -> FileError {
    FileError::new(FileErrorKind::Remote, format!("the body ended after {read} of {size} bytes"))
}

/// A body stream read as a blocking `Read`, for objects too big to hold: each read waits on
/// the runtime for the next chunk; a body that ends short of the declared size is an error.
struct Blocking {
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    chunk: Bytes,
    read: u64,
    size: u64,
}

impl std::io::Read for Blocking {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match runtime().block_on(self.stream.next()) {
                None if self.read == self.size => return Ok(0),
                None => return Err(std::io::Error::other(cut_short(self.read, self.size))),
                Some(Err(e)) => return Err(std::io::Error::other(fault(e))),
                Some(Ok(chunk)) => self.chunk = chunk,
            }
        }
        let n = out.len().min(self.chunk.len());
        out[..n].copy_from_slice(&self.chunk.split_to(n));
        self.read += n as u64;
        Ok(n)
    }
}

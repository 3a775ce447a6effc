//! S3 event notifications: which uploaded objects a per-upload hook (`scan --s3-event`) must
//! screen.
//!
//! Owns reading the JSON that AWS delivers when an object lands in a bucket, in every envelope
//! a Lambda function or queue worker is handed: S3's own `{"Records":[…]}`, the same inside
//! SQS messages (Lambda's SQS event, or `aws sqs receive-message` output) or SNS
//! notifications (also SNS→SQS), and EventBridge's `Object Created` events. Several documents
//! may follow one another or sit in a JSON array. Keys are returned decoded, exactly as stored.
//!
//! Must not touch the network or guess: input that is not an event, a record of a known shape
//! lacking its bucket or key, or a key whose encoding does not decode is an error, never an
//! approximation, since screening the wrong object would pass the right one unseen.

use std::collections::HashSet;

use serde_json::{Map, Value};

/// One object named by an event: what to screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventObject {
    /// The bucket's name.
    pub bucket: String,
    /// The object's key, decoded: exactly the key as stored.
    pub key: String,
    /// The version the event is about, in a versioned bucket.
    pub version_id: Option<String>,
    /// The object's size in bytes, when the event gives it.
    pub size: Option<u64>,
    /// The object's ETag, without surrounding quotes.
    pub etag: Option<String>,
}

/// What a batch of events names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// The objects to screen, in the order the events name them, each (bucket, key, version)
    /// once.
    pub objects: Vec<EventObject>,
    /// One line per record deliberately not screened (a deletion, a test event…), for the
    /// operator.
    pub ignored: Vec<String>,
}

/// What the input accepts, for error messages.
const EXPECTED: &str = "expected S3 event notification JSON: {\"Records\":[…]} as S3 sends it \
     (directly, or inside SQS or SNS messages), `aws sqs receive-message` output, or an \
     EventBridge event from aws.s3";

/// How many envelopes (SQS body, SNS message) may wrap one another: SNS→SQS needs two.
const MAX_ENVELOPES: usize = 4;

/// What the events in `bytes` name, in the order they appear; `Err` with a message a person
/// can act on for input that is not S3 event JSON at all.
///
/// `bytes` holds one or more JSON documents, one after the other (JSON Lines or concatenated)
/// or as the items of a JSON array.
pub fn parse_events(bytes: &[u8]) -> Result<Events, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Collector::default();
    let mut documents = 0;
    for (n, document) in
        serde_json::Deserializer::from_slice(bytes).into_iter::<Value>().enumerate()
    {
        let document =
            document.map_err(|e| format!("document {}: not JSON ({e}); {EXPECTED}", n + 1))?;
        documents += 1;
        let at = format!("document {} $", n + 1);
        match document {
            Value::Array(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    out.document(&item, &format!("{at}[{i}]"), 0)?;
                }
            }
            document => out.document(&document, &at, 0)?,
        }
    }
    if documents == 0 {
        return Err(format!("no JSON in the input; {EXPECTED}"));
    }
    Ok(out.events)
}

/// The events gathered so far, and which objects they already name.
#[derive(Default)]
struct Collector {
    events: Events,
    seen: HashSet<(String, String, Option<String>)>,
}

impl Collector {
    /// Reads one event document (`at` says where it is, for errors), `depth` envelopes deep.
    fn document(&mut self, value: &Value, at: &str, depth: usize) -> Result<(), String> {
        let Some(doc) = value.as_object() else {
            return Err(format!("{at} is not an object; {EXPECTED}"));
        };
        if let Some(records) = doc.get("Records") {
            let records =
                records.as_array().ok_or_else(|| format!("{at}.Records is not an array"))?;
            for (i, record) in records.iter().enumerate() {
                self.record(record, &format!("{at}.Records[{i}]"), depth)?;
            }
        } else if let Some(messages) = doc.get("Messages") {
            // `aws sqs receive-message` output.
            let messages =
                messages.as_array().ok_or_else(|| format!("{at}.Messages is not an array"))?;
            for (i, message) in messages.iter().enumerate() {
                let at = format!("{at}.Messages[{i}]");
                let body = message.get("Body").ok_or_else(|| format!("{at} has no Body"))?;
                self.envelope(body, &format!("{at}.Body"), depth)?;
            }
        } else if doc.contains_key("TopicArn") && doc.contains_key("Message") {
            // An SNS notification as SNS delivers it to SQS (without raw message delivery).
            match doc.get("Type").and_then(Value::as_str) {
                Some("Notification") => {
                    self.envelope(&doc["Message"], &format!("{at}.Message"), depth)?
                }
                other => self
                    .events
                    .ignored
                    .push(format!("SNS {} message: nothing to screen", other.unwrap_or("untyped"))),
            }
        } else if doc.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
            // What S3 sends when a notification configuration is saved.
            let bucket = doc.get("Bucket").and_then(Value::as_str).unwrap_or("?");
            self.events
                .ignored
                .push(format!("s3:TestEvent for bucket {bucket}: nothing to screen"));
        } else if let Some(source) = doc.get("detail-type").and(doc.get("source")) {
            if source.as_str() != Some("aws.s3") {
                return Err(format!("{at} is an EventBridge event from {source}, not aws.s3"));
            }
            self.eventbridge(doc, at)?;
        } else {
            let keys: Vec<&str> = doc.keys().map(String::as_str).take(8).collect();
            return Err(format!(
                "{at} is not an S3 event (an object with keys {keys:?}); {EXPECTED}"
            ));
        }
        Ok(())
    }

    /// Reads a document carried as a JSON string by SQS or SNS.
    fn envelope(&mut self, text: &Value, at: &str, depth: usize) -> Result<(), String> {
        let text = text.as_str().ok_or_else(|| format!("{at} is not a string"))?;
        if depth + 1 > MAX_ENVELOPES {
            return Err(format!("{at}: more than {MAX_ENVELOPES} nested envelopes"));
        }
        let inner: Value =
            serde_json::from_str(text).map_err(|e| format!("{at} is not JSON ({e})"))?;
        self.document(&inner, &format!("{at} → $"), depth + 1)
    }

    /// Reads one member of `Records`: an S3 record, or an SQS or SNS record wrapping more.
    fn record(&mut self, record: &Value, at: &str, depth: usize) -> Result<(), String> {
        let record = record.as_object().ok_or_else(|| format!("{at} is not an object"))?;
        // SQS and S3 records spell it `eventSource`, SNS records `EventSource`.
        let source =
            record.get("eventSource").or_else(|| record.get("EventSource")).and_then(Value::as_str);
        match source {
            Some("aws:sqs") => {
                let body = record.get("body").ok_or_else(|| format!("{at} has no body"))?;
                self.envelope(body, &format!("{at}.body"), depth)
            }
            Some("aws:sns") => {
                let message = record
                    .get("Sns")
                    .and_then(|sns| sns.get("Message"))
                    .ok_or_else(|| format!("{at} has no Sns.Message"))?;
                self.envelope(message, &format!("{at}.Sns.Message"), depth)
            }
            // S3 writes `aws:s3`; S3-compatible stores write their own (`minio:s3`).
            _ if record.contains_key("s3") => self.s3_record(record, at),
            Some(other) => Err(format!("{at} comes from {other}, not S3, SQS or SNS")),
            None => Err(format!("{at} has no eventSource; {EXPECTED}")),
        }
    }

    /// Reads an S3 notification record.
    fn s3_record(&mut self, record: &Map<String, Value>, at: &str) -> Result<(), String> {
        let name = record
            .get("eventName")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{at} has no eventName"))?;
        let s3 = &record["s3"];
        let object = &s3["object"];
        let bucket = required(&s3["bucket"]["name"], at, "s3.bucket.name")?;
        let key = required(&object["key"], at, "s3.object.key")?;
        // S3 form-encodes keys here ("red flower.jpg" arrives as "red+flower.jpg"): see
        // "Event message structure" in the S3 user guide.
        let key = form_decode(key).map_err(|e| format!("{at}: s3.object.key {e}"))?;
        let found = EventObject {
            bucket: bucket.to_owned(),
            key,
            version_id: optional_str(&object["versionId"], at, "s3.object.versionId")?,
            size: optional_size(&object["size"], at, "s3.object.size")?,
            etag: optional_str(&object["eTag"], at, "s3.object.eTag")?.map(unquote),
        };
        // S3-compatible stores prefix names with `s3:` as the configuration does.
        let event = name.strip_prefix("s3:").unwrap_or(name);
        let screen = event.starts_with("ObjectCreated:") || event == "ObjectRestore:Completed";
        self.add(found, (!screen).then_some(name));
        Ok(())
    }

    /// Reads an EventBridge event from `aws.s3`.
    fn eventbridge(&mut self, doc: &Map<String, Value>, at: &str) -> Result<(), String> {
        let kind = required(&doc["detail-type"], at, "detail-type")?;
        let detail = doc
            .get("detail")
            .filter(|d| d.is_object())
            .ok_or_else(|| format!("{at} has no detail object"))?;
        let object = &detail["object"];
        let bucket = required(&detail["bucket"]["name"], at, "detail.bucket.name")?;
        let key = required(&object["key"], at, "detail.object.key")?;
        // AWS's page "EventBridge event message structure" says nothing about encoding (its
        // examples' keys need none), but S3 encodes these keys as it does its notifications':
        // AWS's own Powertools for Lambda (Python) reads `detail.object.key` with
        // `unquote_plus`, as it does `s3.object.key`, and so does OpenSearch Data Prepper
        // (`SdkHttpUtils.urlDecode`). Read raw, "a+b.jpg" would name a different object.
        let key = form_decode(key).map_err(|e| format!("{at}: detail.object.key {e}"))?;
        let found = EventObject {
            bucket: bucket.to_owned(),
            key,
            version_id: optional_str(&object["version-id"], at, "detail.object.version-id")?,
            size: optional_size(&object["size"], at, "detail.object.size")?,
            etag: optional_str(&object["etag"], at, "detail.object.etag")?.map(unquote),
        };
        let screen = kind == "Object Created" || kind == "Object Restore Completed";
        self.add(found, (!screen).then_some(kind));
        Ok(())
    }

    /// Keeps `found` to screen, once, or says it is not screened when `skipped` names the
    /// event that needs no screening.
    fn add(&mut self, found: EventObject, skipped: Option<&str>) {
        if let Some(event) = skipped {
            let version =
                found.version_id.as_deref().map(|v| format!(" (version {v})")).unwrap_or_default();
            self.events.ignored.push(format!(
                "{event} of s3://{}/{}{version}: nothing to screen",
                found.bucket, found.key
            ));
            return;
        }
        let id = (found.bucket.clone(), found.key.clone(), found.version_id.clone());
        if self.seen.insert(id) {
            self.events.objects.push(found);
        }
    }
}

/// A non-empty string member, or an error naming the record and the member.
fn required<'a>(value: &'a Value, at: &str, name: &str) -> Result<&'a str, String> {
    match value.as_str() {
        Some(text) if !text.is_empty() => Ok(text),
        Some(_) => Err(format!("{at} has an empty {name}")),
        None => Err(format!("{at} has no {name}")),
    }
}

/// A string member that may be absent or null.
fn optional_str(value: &Value, at: &str, name: &str) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        _ => Err(format!("{at}: {name} is not a string")),
    }
}

/// A size in bytes that may be absent or null.
fn optional_size(value: &Value, at: &str, name: &str) -> Result<Option<u64>, String> {
    match value {
        Value::Null => Ok(None),
        _ => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{at}: {name} is not a whole number of bytes")),
    }
}

/// An ETag without the quotes HTTP puts around it (events usually carry none).
fn unquote(etag: String) -> String {
    match etag.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
        Some(inner) => inner.to_owned(),
        None => etag,
    }
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a byte, and the
/// bytes must be UTF-8. A `%` not followed by two hex digits is an error, never kept as is.
fn form_decode(encoded: &str) -> Result<String, String> {
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = |at: usize| bytes.get(at).and_then(|&b| (b as char).to_digit(16));
                let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
                    return Err(format!(
                        "{encoded:?} has a % not followed by two hex digits at byte {i}"
                    ));
                };
                decoded.push((high * 16 + low) as u8);
                i += 2;
            }
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8(decoded).map_err(|_| format!("{encoded:?} does not decode to UTF-8"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// An S3 notification record as S3 writes it (version 2.1), for `eventName` and `key`.
    fn s3_record(event_name: &str, key: &str) -> Value {
        json!({
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-west-2",
            "eventTime": "2024-05-01T12:00:00.000Z",
            "eventName": event_name,
            "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "203.0.113.7"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyU/IgAt"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "screen-uploads",
                "bucket": {"name": "uploads-prod", "ownerIdentity": {"principalId": "A3NL1KOZZKEX"},
                    "arn": "arn:aws:s3:::uploads-prod"},
                "object": {
                    "key": key,
                    "size": 1024,
                    "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                    "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                    "sequencer": "0055AED6DCD90281E5"
                }
            }
        })
    }

    /// The S3 notification JSON holding `records`, as text (what SQS and SNS carry).
    fn notification(records: &[Value]) -> String {
        json!({ "Records": records }).to_string()
    }

    /// What `parse_events` makes of `value`'s JSON text.
    fn parse(value: &Value) -> Result<Events, String> {
        parse_events(value.to_string().as_bytes())
    }

    /// An object of `uploads-prod` at the records' version, size and ETag.
    fn object(key: &str) -> EventObject {
        EventObject {
            bucket: "uploads-prod".into(),
            key: key.into(),
            version_id: Some("096fKKXTRTtl3on89fVO.nfljtsv6qko".into()),
            size: Some(1024),
            etag: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
        }
    }

    #[test]
    fn s3_notification_keys_are_form_decoded() {
        let text = notification(&[
            s3_record("ObjectCreated:Put", "inbox/red+flower+%2B1.jpg"),
            s3_record("ObjectCreated:CompleteMultipartUpload", "inbox/%C3%A9t%C3%A9+100%25.mp4"),
            s3_record("ObjectCreated:Copy", "plain/key-with:colon%3A.png"),
        ]);
        let events = parse_events(text.as_bytes()).unwrap();
        assert_eq!(
            events.objects,
            [
                object("inbox/red flower +1.jpg"),
                object("inbox/été 100%.mp4"),
                object("plain/key-with:colon:.png"),
            ]
        );
        assert!(events.ignored.is_empty());
    }

    #[test]
    fn deletions_and_other_events_are_ignored_with_a_reason() {
        let mut unversioned = s3_record("ObjectRestore:Completed", "cold/a.jpg");
        unversioned["s3"]["object"]["versionId"] = Value::Null;
        unversioned["s3"]["object"]["eTag"] = json!("\"0123456789abcdef\"");
        let events = parse(&json!({"Records": [
            s3_record("ObjectRemoved:Delete", "gone/b+c.jpg"),
            unversioned,
            s3_record("ObjectRestore:Post", "cold/d.jpg"),
            s3_record("s3:ObjectCreated:Post", "minio/e.jpg"),
        ]}))
        .unwrap();
        let restored = EventObject {
            version_id: None,
            etag: Some("0123456789abcdef".into()),
            ..object("cold/a.jpg")
        };
        assert_eq!(events.objects, [restored, object("minio/e.jpg")]);
        assert_eq!(
            events.ignored,
            [
                "ObjectRemoved:Delete of s3://uploads-prod/gone/b c.jpg \
                 (version 096fKKXTRTtl3on89fVO.nfljtsv6qko): nothing to screen",
                "ObjectRestore:Post of s3://uploads-prod/cold/d.jpg \
                 (version 096fKKXTRTtl3on89fVO.nfljtsv6qko): nothing to screen",
            ]
        );
    }

    #[test]
    fn test_event_is_ignored_directly_and_through_sqs() {
        let test_event = json!({
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": "2024-05-01T12:00:00.000Z",
            "Bucket": "uploads-prod",
            "RequestId": "5582815E1AEA5ADF",
            "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"
        });
        let line = "s3:TestEvent for bucket uploads-prod: nothing to screen";
        let events = parse(&test_event).unwrap();
        assert_eq!((events.objects.len(), &events.ignored[..]), (0, &[line.to_owned()][..]));
        let sqs = json!({"Messages": [{"MessageId": "m1", "Body": test_event.to_string()}]});
        assert_eq!(parse(&sqs).unwrap().ignored, [line]);
    }

    #[test]
    fn lambda_sqs_event() {
        let events = parse(&json!({"Records": [{
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": notification(&[s3_record("ObjectCreated:Put", "q/one+two.gif")]),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:screen-queue",
            "awsRegion": "us-east-2"
        }]}))
        .unwrap();
        assert_eq!(events.objects, [object("q/one two.gif")]);
    }

    /// An SNS notification as SNS delivers it to SQS, around `message`.
    fn sns_envelope(message: String) -> Value {
        json!({
            "Type": "Notification",
            "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:s3-uploads",
            "Subject": "Amazon S3 Notification",
            "Message": message,
            "Timestamp": "2024-05-01T12:00:01.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE", "SigningCertURL": "https://sns.us-east-1.amazonaws.com/x.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
        })
    }

    #[test]
    fn lambda_sns_event() {
        let mut sns = sns_envelope(notification(&[s3_record("ObjectCreated:Put", "n/x%2By.png")]));
        sns["MessageAttributes"] = json!({});
        let events = parse(&json!({"Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:s3-uploads:2bcfbf39",
            "Sns": sns
        }]}))
        .unwrap();
        assert_eq!(events.objects, [object("n/x+y.png")]);
    }

    #[test]
    fn sns_to_sqs_and_receive_message_output() {
        let envelope = sns_envelope(notification(&[s3_record("ObjectCreated:Put", "a+b.jpg")]));
        let lambda = json!({"Records": [{"eventSource": "aws:sqs", "body": envelope.to_string()}]});
        assert_eq!(parse(&lambda).unwrap().objects, [object("a b.jpg")]);
        let cli = json!({"Messages": [{
            "MessageId": "c0a4a8b4-1e5d-4c2f-9b4e-0f7a6b1d2e3f",
            "ReceiptHandle": "AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq...",
            "MD5OfBody": "9d5b2b4c3e1f0a7d6c8b9e0f1a2b3c4d",
            "Body": envelope.to_string()
        }]});
        assert_eq!(parse(&cli).unwrap().objects, [object("a b.jpg")]);
    }

    /// An EventBridge event from S3 of `detail_type` for `key`.
    fn eventbridge(detail_type: &str, key: &str) -> Value {
        json!({
            "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": detail_type, "source": "aws.s3", "account": "111122223333",
            "time": "2021-11-12T00:00:00Z", "region": "ca-central-1",
            "resources": ["arn:aws:s3:::uploads-prod"],
            "detail": {
                "version": "0",
                "bucket": {"name": "uploads-prod"},
                "object": {
                    "key": key,
                    "size": 1024,
                    "etag": "d41d8cd98f00b204e9800998ecf8427e",
                    "version-id": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                    "sequencer": "617f08299329d189"
                },
                "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
                "source-ip-address": "1.2.3.4", "reason": "PutObject"
            }
        })
    }

    #[test]
    fn eventbridge_events_directly_and_through_sqs() {
        let created = eventbridge("Object Created", "eb/summer+%C3%A9t%C3%A9%2B.jpg");
        let events = parse(&json!([created, eventbridge("Object Deleted", "eb/old.jpg")])).unwrap();
        assert_eq!(events.objects, [object("eb/summer été+.jpg")]);
        assert_eq!(
            events.ignored,
            ["Object Deleted of s3://uploads-prod/eb/old.jpg \
              (version 096fKKXTRTtl3on89fVO.nfljtsv6qko): nothing to screen"]
        );
        let queued = json!({"Records": [{"eventSource": "aws:sqs", "body": created.to_string()}]});
        assert_eq!(parse(&queued).unwrap().objects, [object("eb/summer été+.jpg")]);
    }

    #[test]
    fn several_documents_keep_each_object_once() {
        let put = notification(&[s3_record("ObjectCreated:Put", "dup.jpg")]);
        let mut other_version = s3_record("ObjectCreated:Put", "dup.jpg");
        other_version["s3"]["object"]["versionId"] = json!("v2");
        let lines = format!(
            "{put}\n{}\n{put}{}\n",
            eventbridge("Object Created", "dup.jpg"),
            notification(&[other_version, s3_record("ObjectCreated:Put", "next.jpg")])
        );
        let versioned = EventObject { version_id: Some("v2".into()), ..object("dup.jpg") };
        let expected = [object("dup.jpg"), versioned, object("next.jpg")];
        assert_eq!(parse_events(lines.as_bytes()).unwrap().objects, expected);
        let array = format!("\u{feff}[{}]", lines.trim().replace('\n', ",").replace("}{", "},{"));
        assert_eq!(parse_events(array.as_bytes()).unwrap().objects, expected);
    }

    #[test]
    fn input_that_is_not_an_event_is_an_error() {
        for (input, expected) in [
            ("", "no JSON in the input"),
            ("  \n", "no JSON in the input"),
            ("{\"Records\":[", "not JSON"),
            ("Records: []", "not JSON"),
            ("{}", "not an S3 event"),
            ("[1]", "document 1 $[0] is not an object"),
            ("{\"Records\":{}}", "Records is not an array"),
            ("{\"Records\":[{\"eventSource\":\"aws:kinesis\"}]}", "comes from aws:kinesis"),
            (
                "{\"Records\":[{\"eventSource\":\"aws:sqs\",\"body\":\"hello\"}]}",
                "body is not JSON",
            ),
            ("{\"Messages\":[{\"Body\":7}]}", "Body is not a string"),
            ("{\"source\":\"aws.ec2\",\"detail-type\":\"x\"}", "from \"aws.ec2\", not aws.s3"),
        ] {
            let error = parse_events(input.as_bytes()).unwrap_err();
            assert!(error.contains(expected), "{input:?}: {error}");
        }
    }

    #[test]
    fn records_missing_what_they_need_are_errors_naming_them() {
        let mut no_key = s3_record("ObjectCreated:Put", "k");
        no_key["s3"]["object"].as_object_mut().unwrap().remove("key");
        let mut no_bucket = s3_record("ObjectRemoved:Delete", "k");
        no_bucket["s3"]["bucket"]["name"] = json!("");
        let mut bad_size = s3_record("ObjectCreated:Put", "k");
        bad_size["s3"]["object"]["size"] = json!("1024");
        let mut eb_no_key = eventbridge("Object Created", "k");
        eb_no_key["detail"]["object"] = json!({});
        let good = s3_record("ObjectCreated:Put", "fine");
        for (document, expected) in [
            (json!({"Records": [good.clone(), no_key]}), "$.Records[1] has no s3.object.key"),
            (json!({"Records": [no_bucket]}), "$.Records[0] has an empty s3.bucket.name"),
            (json!({"Records": [bad_size]}), "size is not a whole number"),
            (json!([{"Records": [good]}, eb_no_key]), "document 1 $[1] has no detail.object.key"),
        ] {
            let error = parse(&document).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
        let inner = notification(&[s3_record("ObjectCreated:Put", "bad%zz")]);
        let error = parse(&json!({"Records": [{"eventSource": "aws:sqs", "body": inner}]}));
        assert!(error.unwrap_err().starts_with(
            "document 1 $.Records[0].body → $.Records[0]: s3.object.key \"bad%zz\" has a %"
        ));
    }

    #[test]
    fn form_decoding_is_strict() {
        assert_eq!(form_decode("a+b%2Bc%25d%C3%A9%2f").unwrap(), "a b+c%dé/");
        assert_eq!(form_decode("raw é kept").unwrap(), "raw é kept");
        for bad in ["%", "%2", "a%g0", "%+F", "100%", "%C3", "%FF%FE"] {
            assert!(form_decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn envelopes_nest_only_so_deep() {
        let mut document = notification(&[s3_record("ObjectCreated:Put", "deep.jpg")]);
        for depth in 1..=MAX_ENVELOPES + 1 {
            document = json!({"Messages": [{"Body": document}]}).to_string();
            let result = parse_events(document.as_bytes());
            assert_eq!(result.is_ok(), depth <= MAX_ENVELOPES, "{depth}: {result:?}");
        }
    }

    #[test]
    fn no_prefix_of_a_real_event_panics() {
        let envelope = sns_envelope(notification(&[s3_record("ObjectCreated:Put", "%C3%A9+x")]));
        let text = json!({"Records": [{"eventSource": "aws:sqs", "body": envelope.to_string()}]})
            .to_string();
        for end in 0..text.len() {
            let _ = parse_events(&text.as_bytes()[..end]);
        }
    }
}

//! RFC 8291 message encryption for Web Push: one `aes128gcm` record
//! (RFC 8188) keyed by ECDH between a fresh P-256 key and the browser's
//! `p256dh` key, mixed with its `auth` secret. Only the browser that made
//! the subscription can read the payload; the push service cannot.

use aes_gcm::{aead::Aead, Aes128Gcm, KeyInit, Nonce};
use hkdf::Hkdf;
use p256::{elliptic_curve::sec1::ToEncodedPoint, PublicKey, SecretKey};
use sha2::Sha256;

/// The record size announced in the header. One record carries the whole
/// payload, so it must exceed the payload plus the tag and the delimiter.
const RECORD_SIZE: u32 = 4096;
/// The most a payload may hold in one record of [`RECORD_SIZE`]: push
/// services take at most 4096 bytes of body, header (86) included.
pub const MAX_PLAINTEXT: usize = 4096 - 86 - 16 - 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EceError {
    #[error("the payload is too large for one push message")]
    TooLarge,
    #[error("no randomness available")]
    Random,
}

/// The browser's side of a subscription: `p256dh` (an uncompressed P-256
/// point) and `auth` (16 bytes), as the subscription handed them over.
pub struct Receiver<'a> {
    pub p256dh: &'a PublicKey,
    pub auth: &'a [u8; 16],
}

/// Encrypts `plaintext` for `to`: the body of the push request, to be sent
/// with `Content-Encoding: aes128gcm`.
pub fn encrypt(to: &Receiver<'_>, plaintext: &[u8]) -> Result<Vec<u8>, EceError> {
    let mut seed = [0u8; 48];
    getrandom::getrandom(&mut seed).map_err(|_| EceError::Random)?;
    let (key, salt) = seed.split_at(32);
    // A random 32-byte string is a valid scalar but for ~2^-128 of draws.
    let ephemeral = SecretKey::from_slice(key).map_err(|_| EceError::Random)?;
    encrypt_with(
        to,
        plaintext,
        &ephemeral,
        salt.try_into().expect("16 bytes"),
    )
}

/// [`encrypt`] with the sender's key and the salt given (RFC 8291's
/// example in the tests fixes both).
pub fn encrypt_with(
    to: &Receiver<'_>,
    plaintext: &[u8],
    ephemeral: &SecretKey,
    salt: &[u8; 16],
) -> Result<Vec<u8>, EceError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EceError::TooLarge);
    }
    let ua_public = to.p256dh.to_encoded_point(false);
    let as_public = ephemeral.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), to.p256dh.as_affine());

    // RFC 8291 §3.4: IKM = HKDF(auth, ecdh_secret, "WebPush: info" || 0 || ua || as).
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public.as_bytes());
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(to.auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .expect("32 bytes is a valid length");

    // RFC 8188 §2.2-2.3: the content key and the nonce (one record, seq 0).
    let hk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    hk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .expect("16 bytes");
    hk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .expect("12 bytes");

    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(2); // the last (and only) record's delimiter, no padding
    let sealed = Aes128Gcm::new(&cek.into())
        .encrypt(&Nonce::from(nonce), record.as_slice())
        .map_err(|_| EceError::TooLarge)?;

    let mut body = Vec::with_capacity(86 + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    /// RFC 8291 §5's example, byte for byte.
    #[test]
    fn the_rfc_example_encrypts_to_the_rfc_bytes() {
        let ua = PublicKey::from_sec1_bytes(&b64(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        ))
        .unwrap();
        let auth: [u8; 16] = b64("BTBZMqHH6r4Tts7J_aSIgg").try_into().unwrap();
        let ephemeral =
            SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(
            &Receiver {
                p256dh: &ua,
                auth: &auth,
            },
            b"When I grow up, I want to be a watermelon",
            &ephemeral,
            &salt,
        )
        .unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn a_payload_too_large_for_one_message_is_refused() {
        let ua = SecretKey::from_slice(&[7u8; 32]).unwrap().public_key();
        let to = Receiver {
            p256dh: &ua,
            auth: &[1u8; 16],
        };
        assert_eq!(
            encrypt(&to, &vec![b'x'; MAX_PLAINTEXT + 1]).unwrap_err(),
            EceError::TooLarge
        );
        assert_eq!(
            encrypt(&to, &vec![b'x'; MAX_PLAINTEXT]).unwrap().len(),
            4096
        );
    }
}

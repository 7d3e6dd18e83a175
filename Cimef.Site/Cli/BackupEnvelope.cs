using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cimef.Site.Cli;

/// <summary>
/// A CMS (RFC 5652) archive written and read as a stream: SignedData (the content and one SHA-256 signature with signed
/// attributes, by the clinic's signing key) inside EnvelopedData (AES-256-CBC content, the content key wrapped for one
/// RSA certificate with RSAES-OAEP, SHA-256, MGF1-SHA-256) — sign then encrypt, as S/MIME does. Standard DER, so
/// <c>openssl cms -decrypt</c> then <c>openssl cms -verify</c> read it too. Why not <c>SignedCms</c>/<c>EnvelopedCms</c>:
/// they hold the whole content in memory, and a clinic's reports reach gigabytes; DER needs the lengths up front, which
/// the caller gives (a seekable stream, read twice: its digest fixes the signature's size before encryption starts).
/// Reading accepts what <see cref="SignAndEncryptAsync"/> writes (definite lengths, one content octet string), any number
/// of key-transport recipients and of signers, and checks the signature against the certificate the operator names:
/// the recipient certificate is public, so encryption alone proves nothing about who made an archive.
/// </summary>
public static class BackupEnvelope
{
    private const string EnvelopedDataOid = "1.2.840.113549.1.7.3";
    private const string SignedDataOid = "1.2.840.113549.1.7.2";
    private const string DataOid = "1.2.840.113549.1.7.1";
    private const string ContentTypeOid = "1.2.840.113549.1.9.3";
    private const string MessageDigestOid = "1.2.840.113549.1.9.4";
    private const string SigningTimeOid = "1.2.840.113549.1.9.5";
    private const string EcdsaSha256Oid = "1.2.840.10045.4.3.2";
    private const string Aes256CbcOid = "2.16.840.1.101.3.4.1.42";
    private const string RsaOaepOid = "1.2.840.113549.1.1.7";
    private const string RsaPkcs1Oid = "1.2.840.113549.1.1.1";
    private const string Mgf1Oid = "1.2.840.113549.1.1.8";
    private const string Sha1Oid = "1.3.14.3.2.26";
    private const string Sha256Oid = "2.16.840.1.101.3.4.2.1";
    private const string Sha384Oid = "2.16.840.1.101.3.4.2.2";
    private const string Sha512Oid = "2.16.840.1.101.3.4.2.3";
    private const int BufferSize = 1 << 20;

    /// <summary>Thrown with a French message when an archive cannot be opened (wrong key, damaged, not ours).</summary>
    public sealed class EnvelopeException(string message) : Exception(message);

    /// <summary>
    /// Signs <paramref name="plain"/> (from its position to its end; read twice, so seekable) with
    /// <paramref name="signer"/>'s private key (RSA or ECDSA) and encrypts the signed content for <paramref name="recipient"/>.
    /// </summary>
    public static async Task SignAndEncryptAsync(Stream plain, X509Certificate2 signer, X509Certificate2 recipient, Stream output,
        DateTimeOffset signingTime, CancellationToken ct = default)
    {
        var start = plain.Position;
        var length = plain.Length - start;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await CopyAsync(plain, length, (chunk, _) => { hash.AppendData(chunk.Span); return ValueTask.CompletedTask; }, ct);
        plain.Position = start;
        var (head, tail) = SignedDataFrame(length, hash.GetHashAndReset(), signer, signingTime);
        await EncryptAsync(head.Length + length + tail.Length, recipient, output, async crypto =>
        {
            await crypto.WriteAsync(head, ct);
            await CopyAsync(plain, length, crypto.WriteAsync, ct);
            await crypto.WriteAsync(tail, ct);
        }, ct);
    }

    /// <summary>
    /// A SignedData ContentInfo around <paramref name="length"/> bytes of content, split where the content goes: the
    /// head ends with the content's octet string header; the tail holds the signer's certificate and its SignerInfo.
    /// </summary>
    private static (byte[] Head, byte[] Tail) SignedDataFrame(long length, byte[] digest, X509Certificate2 signer, DateTimeOffset signingTime)
    {
        var attributes = new AsnWriter(AsnEncodingRules.DER);
        using (attributes.PushSetOf())
        {
            WriteAttribute(attributes, ContentTypeOid, w => w.WriteObjectIdentifier(DataOid));
            WriteAttribute(attributes, MessageDigestOid, w => w.WriteOctetString(digest));
            // UTCTime until 2049, GeneralizedTime after (RFC 5652, 11.3).
            WriteAttribute(attributes, SigningTimeOid, w =>
            {
                var utc = signingTime.ToUniversalTime();
                if (utc.Year < 2050) w.WriteUtcTime(utc); else w.WriteGeneralizedTime(utc, omitFractionalSeconds: true);
            });
        }
        // The signature covers the attributes encoded as a SET; in the SignerInfo they carry the [0] tag instead.
        var signedAttributes = attributes.Encode();
        var (signatureAlgorithm, signature) = Sign(signer, signedAttributes);
        signedAttributes[0] = 0xA0;

        var tail = new AsnWriter(AsnEncodingRules.DER);
        using (tail.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0))) // certificates: lets openssl cms -verify find the signer
            tail.WriteEncodedValue(signer.RawData);
        using (tail.PushSetOf())
        using (tail.PushSequence())
        {
            tail.WriteInteger(1); // sid is issuerAndSerialNumber
            using (tail.PushSequence())
            {
                tail.WriteEncodedValue(signer.IssuerName.RawData);
                tail.WriteInteger(signer.SerialNumberBytes.Span);
            }
            using (tail.PushSequence()) tail.WriteObjectIdentifier(Sha256Oid);
            tail.WriteEncodedValue(signedAttributes);
            using (tail.PushSequence())
            {
                tail.WriteObjectIdentifier(signatureAlgorithm);
                if (signatureAlgorithm == RsaPkcs1Oid) tail.WriteNull();
            }
            tail.WriteOctetString(signature);
        }
        var tailBytes = tail.Encode();

        var digestAlgorithms = new AsnWriter(AsnEncodingRules.DER);
        using (digestAlgorithms.PushSetOf())
        using (digestAlgorithms.PushSequence())
            digestAlgorithms.WriteObjectIdentifier(Sha256Oid);
        var algorithms = digestAlgorithms.Encode();
        var dataOid = Oid(DataOid);
        var contentHeader = Header(0x04, length);
        var explicitContent = Header(0xA0, contentHeader.Length + length);
        var encapLength = dataOid.Length + explicitContent.Length + contentHeader.Length + length;
        var encapHeader = Header(0x30, encapLength);
        byte[] version = [0x02, 0x01, 0x01];
        var signedLength = version.Length + algorithms.Length + encapHeader.Length + encapLength + tailBytes.Length;
        var signedHeader = Header(0x30, signedLength);
        var explicitSigned = Header(0xA0, signedHeader.Length + signedLength);
        var signedOid = Oid(SignedDataOid);
        var outer = Header(0x30, signedOid.Length + explicitSigned.Length + signedHeader.Length + signedLength);
        byte[] head = [.. outer, .. signedOid, .. explicitSigned, .. signedHeader, .. version, .. algorithms, .. encapHeader, .. dataOid, .. explicitContent, .. contentHeader];
        return (head, tailBytes);
    }

    private static (string Algorithm, byte[] Signature) Sign(X509Certificate2 signer, byte[] data)
    {
        using (var rsa = signer.GetRSAPrivateKey())
            if (rsa is not null) return (RsaPkcs1Oid, rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        using (var ecdsa = signer.GetECDsaPrivateKey())
            if (ecdsa is not null) return (EcdsaSha256Oid, ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        throw new EnvelopeException("la clé de signature doit être RSA ou ECDSA");
    }

    /// <summary>Whether the signature over <paramref name="data"/> was made by <paramref name="signer"/>'s key (RSA or ECDSA, SHA-256).</summary>
    private static bool Verify(X509Certificate2 signer, byte[] data, byte[] signature)
    {
        using (var rsa = signer.GetRSAPublicKey())
            if (rsa is not null) return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using (var ecdsa = signer.GetECDsaPublicKey())
            return ecdsa is not null && ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>Whether a certificate's key is one <see cref="DecryptAndVerifyAsync"/> checks signatures with.</summary>
    public static bool CanVerifyWith(X509Certificate2 signer)
    {
        using var rsa = signer.GetRSAPublicKey();
        using var ecdsa = rsa is null ? signer.GetECDsaPublicKey() : null;
        return rsa is not null || ecdsa is not null;
    }

    private static void WriteAttribute(AsnWriter w, string oid, Action<AsnWriter> value)
    {
        using (w.PushSequence())
        {
            w.WriteObjectIdentifier(oid);
            using (w.PushSetOf()) value(w);
        }
    }

    /// <summary>Encrypts <paramref name="length"/> bytes, which <paramref name="writeContent"/> writes into the stream it is given.</summary>
    private static async Task EncryptAsync(long length, X509Certificate2 recipient, Stream output, Func<Stream, Task> writeContent, CancellationToken ct)
    {
        using var rsa = recipient.GetRSAPublicKey() ?? throw new EnvelopeException("le certificat de sauvegarde n'a pas de clé RSA");
        using var aes = Aes.Create();
        aes.KeySize = 256;
        aes.GenerateKey();
        aes.GenerateIV();

        var recipientInfos = new AsnWriter(AsnEncodingRules.DER);
        using (recipientInfos.PushSetOf())
        using (recipientInfos.PushSequence())
        {
            recipientInfos.WriteInteger(0); // issuerAndSerialNumber
            using (recipientInfos.PushSequence())
            {
                recipientInfos.WriteEncodedValue(recipient.IssuerName.RawData);
                recipientInfos.WriteInteger(recipient.SerialNumberBytes.Span);
            }
            using (recipientInfos.PushSequence())
            {
                recipientInfos.WriteObjectIdentifier(RsaOaepOid);
                using (recipientInfos.PushSequence())
                {
                    using (recipientInfos.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
                        WriteAlgorithm(recipientInfos, Sha256Oid);
                    using (recipientInfos.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1)))
                    using (recipientInfos.PushSequence())
                    {
                        recipientInfos.WriteObjectIdentifier(Mgf1Oid);
                        WriteAlgorithm(recipientInfos, Sha256Oid);
                    }
                }
            }
            recipientInfos.WriteOctetString(rsa.Encrypt(aes.Key, RSAEncryptionPadding.OaepSHA256));
        }

        var contentHead = new AsnWriter(AsnEncodingRules.DER);
        contentHead.WriteObjectIdentifier(DataOid);
        using (contentHead.PushSequence())
        {
            contentHead.WriteObjectIdentifier(Aes256CbcOid);
            contentHead.WriteOctetString(aes.IV);
        }

        // CBC with PKCS#7 padding always adds 1 to 16 bytes.
        var encryptedLength = (length / 16 + 1) * 16;
        byte[] version = [0x02, 0x01, 0x00];
        var rInfos = recipientInfos.Encode();
        var cHead = contentHead.Encode();
        var contentHeader = Header(0x80, encryptedLength); // [0] IMPLICIT OCTET STRING, primitive
        var eciLength = cHead.Length + contentHeader.Length + encryptedLength;
        var eciHeader = Header(0x30, eciLength);
        var envelopedLength = version.Length + rInfos.Length + eciHeader.Length + eciLength;
        var envelopedHeader = Header(0x30, envelopedLength);
        var explicitHeader = Header(0xA0, envelopedHeader.Length + envelopedLength);
        var oidBytes = Oid(EnvelopedDataOid);
        var outer = Header(0x30, oidBytes.Length + explicitHeader.Length + envelopedHeader.Length + envelopedLength);

        foreach (var part in new[] { outer, oidBytes, explicitHeader, envelopedHeader, version, rInfos, eciHeader, cHead, contentHeader })
            await output.WriteAsync(part, ct);

        using var encryptor = aes.CreateEncryptor();
        var crypto = new CryptoStream(output, encryptor, CryptoStreamMode.Write, leaveOpen: true);
        await using (crypto)
        {
            await writeContent(crypto);
            await crypto.FlushFinalBlockAsync(ct);
        }
    }

    /// <summary>Exactly <paramref name="length"/> bytes of <paramref name="source"/>, handed on in large chunks.</summary>
    private static async Task CopyAsync(Stream source, long length, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, CancellationToken ct)
    {
        var buffer = new byte[BufferSize];
        var remaining = length;
        while (remaining > 0)
        {
            var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), ct);
            if (read == 0) throw new InvalidOperationException($"Content shorter than announced ({length - remaining} of {length} bytes).");
            await write(buffer.AsMemory(0, read), ct);
            remaining -= read;
        }
    }

    /// <summary>
    /// Decrypts an archive with the recipient's private key into <paramref name="output"/> and checks that
    /// <paramref name="signer"/>'s key signed it; returns the signing time it carries, if any. The content is written
    /// as it is decrypted, before the signature (which follows it) can be checked: on any exception the caller discards
    /// <paramref name="output"/> unread.
    /// </summary>
    public static async Task<DateTimeOffset?> DecryptAndVerifyAsync(Stream input, RSA key, X509Certificate2 signer, Stream output, CancellationToken ct = default)
    {
        try
        {
            await using var content = await OpenAsync(input, key, ct);
            var signedAt = await ReadSignedAsync(content, signer, output, ct);
            if (await content.ReadAsync(new byte[1], ct) != 0) throw Damaged("données après la signature");
            return signedAt;
        }
        catch (CryptographicException)
        {
            throw Damaged("contenu chiffré altéré");
        }
    }

    /// <summary>The decrypted content of an EnvelopedData archive, as a stream read to its end (padding checked there).</summary>
    private static async Task<Stream> OpenAsync(Stream input, RSA key, CancellationToken ct)
    {
        Expect(await ReadHeaderAsync(input, ct), 0x30);
        if (await ReadOidAsync(input, ct) != EnvelopedDataOid) throw Damaged("ce n'est pas une archive chiffrée CMS (enveloppe)");
        Expect(await ReadHeaderAsync(input, ct), 0xA0);
        Expect(await ReadHeaderAsync(input, ct), 0x30);
        await ReadBytesAsync(input, Expect(await ReadHeaderAsync(input, ct), 0x02), ct); // version
        var (tag, length) = await ReadHeaderAsync(input, ct);
        if (tag == 0xA0) // originatorInfo: certificates we do not need
        {
            await ReadBytesAsync(input, length, ct);
            (tag, length) = await ReadHeaderAsync(input, ct);
        }
        var contentKey = UnwrapKey(await ReadBytesAsync(input, Expect((tag, length), 0x31), ct), key);

        Expect(await ReadHeaderAsync(input, ct), 0x30); // EncryptedContentInfo
        if (await ReadOidAsync(input, ct) != DataOid) throw Damaged("contenu inattendu");
        var algorithm = new AsnReader(await ReadBytesAsync(input, Expect(await ReadHeaderAsync(input, ct), 0x30), ct), AsnEncodingRules.BER);
        if (algorithm.ReadObjectIdentifier() != Aes256CbcOid) throw Damaged("chiffrement autre qu'AES-256-CBC");
        var iv = algorithm.ReadOctetString();
        var contentLength = Expect(await ReadHeaderAsync(input, ct), 0x80);
        if (contentLength % 16 != 0 || contentLength == 0) throw Damaged("contenu chiffré de taille invalide");

        using var aes = Aes.Create();
        aes.Key = contentKey;
        aes.IV = iv;
        return new CryptoStream(new BoundedStream(input, contentLength), aes.CreateDecryptor(), CryptoStreamMode.Read);
    }

    /// <summary>
    /// A SignedData ContentInfo: its content streamed into <paramref name="output"/> while hashed, then the signer
    /// infos that follow it, one of which must be <paramref name="signer"/>'s over that digest.
    /// </summary>
    private static async Task<DateTimeOffset?> ReadSignedAsync(Stream s, X509Certificate2 signer, Stream output, CancellationToken ct)
    {
        // Anything else than a SignedData here (the tar itself, say) is an archive nobody signed.
        try
        {
            if ((await ReadHeaderAsync(s, ct)).Tag != 0x30 || await ReadOidAsync(s, ct) != SignedDataOid) throw Unsigned();
        }
        catch (EnvelopeException)
        {
            throw Unsigned();
        }
        Expect(await ReadHeaderAsync(s, ct), 0xA0);
        Expect(await ReadHeaderAsync(s, ct), 0x30);
        await ReadBytesAsync(s, Expect(await ReadHeaderAsync(s, ct), 0x02), ct); // version
        await ReadBytesAsync(s, Expect(await ReadHeaderAsync(s, ct), 0x31), ct); // digestAlgorithms: each SignerInfo names its own
        Expect(await ReadHeaderAsync(s, ct), 0x30); // EncapsulatedContentInfo
        if (await ReadOidAsync(s, ct) != DataOid) throw Damaged("contenu signé inattendu");
        Expect(await ReadHeaderAsync(s, ct), 0xA0);
        var length = Expect(await ReadHeaderAsync(s, ct), 0x04);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await CopyAsync(new BoundedStream(s, length), length, async (chunk, token) =>
        {
            hash.AppendData(chunk.Span);
            await output.WriteAsync(chunk, token);
        }, ct);
        var digest = hash.GetHashAndReset();

        var (tag, size) = await ReadHeaderAsync(s, ct);
        while (tag is 0xA0 or 0xA1) // certificates, crls: the operator's certificate decides, not the archive's
        {
            await ReadBytesAsync(s, size, ct);
            (tag, size) = await ReadHeaderAsync(s, ct);
        }
        return CheckSignature(await ReadBytesAsync(s, Expect((tag, size), 0x31), ct), digest, signer);
    }

    /// <summary>The signing time of the first SignerInfo made by <paramref name="signer"/>'s key, whose digest must be the content's.</summary>
    private static DateTimeOffset? CheckSignature(byte[] signerInfos, byte[] digest, X509Certificate2 signer)
    {
        try
        {
            var set = new AsnReader(signerInfos, AsnEncodingRules.BER);
            while (set.HasData)
            {
                var info = set.ReadSequence();
                info.ReadInteger();
                info.ReadEncodedValue(); // sid: the key decides
                var digestAlgorithm = info.ReadSequence().ReadObjectIdentifier();
                if (info.PeekTag() != new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)) continue; // no signed attributes: never ours
                var signedAttributes = info.ReadEncodedValue().ToArray();
                info.ReadSequence(); // signatureAlgorithm: the certificate's key type decides
                var signature = info.ReadOctetString();
                // The signature covers the attributes encoded as a SET.
                signedAttributes[0] = 0x31;
                if (digestAlgorithm != Sha256Oid || !Verify(signer, signedAttributes, signature)) continue;

                string? contentType = null;
                byte[]? messageDigest = null;
                DateTimeOffset? signedAt = null;
                var attributes = new AsnReader(signedAttributes, AsnEncodingRules.BER).ReadSetOf();
                while (attributes.HasData)
                {
                    var attribute = attributes.ReadSequence();
                    var type = attribute.ReadObjectIdentifier();
                    var values = attribute.ReadSetOf();
                    if (type == ContentTypeOid) contentType = values.ReadObjectIdentifier();
                    else if (type == MessageDigestOid) messageDigest = values.ReadOctetString();
                    else if (type == SigningTimeOid) signedAt = values.PeekTag() == Asn1Tag.UtcTime ? values.ReadUtcTime() : values.ReadGeneralizedTime();
                }
                if (contentType != DataOid) throw Damaged("type de contenu signé inattendu");
                if (messageDigest is null || !CryptographicOperations.FixedTimeEquals(messageDigest, digest))
                    throw new EnvelopeException("le contenu a été modifié après sa signature");
                return signedAt;
            }
        }
        catch (AsnContentException)
        {
            throw Damaged("signature illisible");
        }
        throw new EnvelopeException("la signature ne correspond pas au certificat --signer : cette sauvegarde n'a pas été faite avec la clé de signature de la clinique");
    }

    /// <summary>The content key from the first key-transport recipient this private key opens.</summary>
    private static byte[] UnwrapKey(byte[] recipientInfos, RSA key)
    {
        try
        {
            var set = new AsnReader(recipientInfos, AsnEncodingRules.BER);
            while (set.HasData)
            {
                if (set.PeekTag() != Asn1Tag.Sequence) { set.ReadEncodedValue(); continue; } // not key transport
                var ktri = set.ReadSequence();
                ktri.ReadInteger();
                ktri.ReadEncodedValue(); // issuerAndSerialNumber or subjectKeyIdentifier: the key itself decides
                var padding = Padding(ktri.ReadSequence());
                var wrapped = ktri.ReadOctetString();
                if (padding is null) continue;
                try
                {
                    var cek = key.Decrypt(wrapped, padding);
                    if (cek.Length == 32) return cek;
                }
                catch (CryptographicException)
                {
                    // Not this recipient: try the next one.
                }
            }
        }
        catch (AsnContentException)
        {
            throw Damaged("destinataires illisibles");
        }
        throw new EnvelopeException("cette clé privée ne correspond pas au certificat qui a chiffré la sauvegarde");
    }

    private static RSAEncryptionPadding? Padding(AsnReader algorithm)
    {
        var oid = algorithm.ReadObjectIdentifier();
        if (oid == RsaPkcs1Oid) return RSAEncryptionPadding.Pkcs1;
        if (oid != RsaOaepOid) return null;
        var hash = Sha1Oid;
        if (algorithm.HasData && algorithm.PeekTag() == Asn1Tag.Sequence)
        {
            var p = algorithm.ReadSequence();
            if (p.HasData && p.PeekTag() == new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true))
                hash = p.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence().ReadObjectIdentifier();
        }
        return hash switch
        {
            Sha1Oid => RSAEncryptionPadding.OaepSHA1,
            Sha256Oid => RSAEncryptionPadding.OaepSHA256,
            Sha384Oid => RSAEncryptionPadding.OaepSHA384,
            Sha512Oid => RSAEncryptionPadding.OaepSHA512,
            _ => null,
        };
    }

    private static void WriteAlgorithm(AsnWriter w, string oid)
    {
        using (w.PushSequence())
        {
            w.WriteObjectIdentifier(oid);
            w.WriteNull();
        }
    }

    /// <summary>A DER tag and definite length.</summary>
    private static byte[] Header(byte tag, long length)
    {
        if (length < 0x80) return [tag, (byte)length];
        var bytes = new List<byte>();
        for (var l = length; l > 0; l >>= 8) bytes.Insert(0, (byte)l);
        return [tag, (byte)(0x80 | bytes.Count), .. bytes];
    }

    private static async Task<(byte Tag, long Length)> ReadHeaderAsync(Stream s, CancellationToken ct)
    {
        var head = await ReadBytesAsync(s, 2, ct);
        if ((head[0] & 0x1F) == 0x1F) throw Damaged("étiquette ASN.1 non prise en charge");
        if (head[1] < 0x80) return (head[0], head[1]);
        var count = head[1] & 0x7F;
        if (count == 0) throw Damaged("longueur indéfinie non prise en charge (rechiffrez sans -stream)");
        if (count > 7) throw Damaged("longueur invalide");
        long length = 0;
        foreach (var b in await ReadBytesAsync(s, count, ct)) length = (length << 8) | b;
        return (head[0], length);
    }

    private static async Task<string> ReadOidAsync(Stream s, CancellationToken ct)
    {
        var (tag, length) = await ReadHeaderAsync(s, ct);
        if (tag != 0x06 || length > 64) throw Damaged("identifiant d'objet attendu");
        var w = new AsnWriter(AsnEncodingRules.DER);
        w.WriteEncodedValue([0x06, (byte)length, .. await ReadBytesAsync(s, length, ct)]);
        try { return new AsnReader(w.Encode(), AsnEncodingRules.DER).ReadObjectIdentifier(); }
        catch (AsnContentException) { throw Damaged("identifiant d'objet invalide"); }
    }

    private static async Task<byte[]> ReadBytesAsync(Stream s, long count, CancellationToken ct)
    {
        // Only headers, recipients and algorithm parameters are read whole: a few kilobytes at most.
        if (count > 1 << 20) throw Damaged("en-tête trop long");
        var buffer = new byte[count];
        try { await s.ReadExactlyAsync(buffer, ct); }
        catch (EndOfStreamException) { throw Damaged("archive tronquée"); }
        return buffer;
    }

    private static long Expect((byte Tag, long Length) header, byte tag) =>
        header.Tag == tag ? header.Length : throw Damaged("structure CMS inattendue");

    private static EnvelopeException Damaged(string why) => new("archive illisible : " + why);

    private static EnvelopeException Unsigned() =>
        new("cette sauvegarde n'est pas signée (le certificat de chiffrement est public : n'importe qui peut chiffrer une archive)");

    private static byte[] Oid(string oid)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        w.WriteObjectIdentifier(oid);
        return w.Encode();
    }

    /// <summary>The next <c>length</c> bytes of a stream, read forward only; the stream ending sooner is a truncated archive.</summary>
    private sealed class BoundedStream(Stream inner, long length) : Stream
    {
        private long _remaining = length;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_remaining == 0 || buffer.IsEmpty) return 0;
            var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
            return Count(read);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_remaining == 0 || buffer.IsEmpty) return 0;
            var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], ct);
            return Count(read);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        private int Count(int read)
        {
            if (read == 0) throw Damaged("archive tronquée");
            _remaining -= read;
            return read;
        }
    }
}

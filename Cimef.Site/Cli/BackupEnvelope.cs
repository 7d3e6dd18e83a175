using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cimef.Site.Cli;

/// <summary>
/// A CMS (RFC 5652) EnvelopedData archive written and read as a stream: AES-256-CBC content, the content key wrapped
/// for one RSA certificate with RSAES-OAEP (SHA-256, MGF1-SHA-256). Standard DER, so
/// <c>openssl cms -decrypt -inform DER</c> reads it too. Why not <c>EnvelopedCms</c>: it holds the whole content in
/// memory, and a clinic's reports reach gigabytes; DER needs the lengths up front, which the caller gives (a file's size).
/// Reading accepts what <see cref="EncryptAsync"/> writes (definite lengths, one content octet string), and any number
/// of key-transport recipients.
/// </summary>
public static class BackupEnvelope
{
    private const string EnvelopedDataOid = "1.2.840.113549.1.7.3";
    private const string DataOid = "1.2.840.113549.1.7.1";
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

    public static async Task EncryptAsync(Stream plain, long length, X509Certificate2 recipient, Stream output, CancellationToken ct = default)
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
        var oid = new AsnWriter(AsnEncodingRules.DER);
        oid.WriteObjectIdentifier(EnvelopedDataOid);
        var oidBytes = oid.Encode();
        var outer = Header(0x30, oidBytes.Length + explicitHeader.Length + envelopedHeader.Length + envelopedLength);

        foreach (var part in new[] { outer, oidBytes, explicitHeader, envelopedHeader, version, rInfos, eciHeader, cHead, contentHeader })
            await output.WriteAsync(part, ct);

        using var encryptor = aes.CreateEncryptor();
        var crypto = new CryptoStream(output, encryptor, CryptoStreamMode.Write, leaveOpen: true);
        await using (crypto)
        {
            var buffer = new byte[BufferSize];
            long copied = 0;
            int read;
            while ((read = await plain.ReadAsync(buffer, ct)) > 0)
            {
                await crypto.WriteAsync(buffer.AsMemory(0, read), ct);
                copied += read;
            }
            if (copied != length) throw new InvalidOperationException($"Archive length changed while encrypting ({copied} != {length}).");
            await crypto.FlushFinalBlockAsync(ct);
        }
    }

    /// <summary>Decrypts an archive with the recipient's private key into <paramref name="output"/>.</summary>
    public static async Task DecryptAsync(Stream input, RSA key, Stream output, CancellationToken ct = default)
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
        using var decryptor = aes.CreateDecryptor();
        var crypto = new CryptoStream(output, decryptor, CryptoStreamMode.Write, leaveOpen: true);
        try
        {
            await using (crypto)
            {
                var buffer = new byte[BufferSize];
                var remaining = contentLength;
                while (remaining > 0)
                {
                    var read = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), ct);
                    if (read == 0) throw Damaged("archive tronquée");
                    await crypto.WriteAsync(buffer.AsMemory(0, read), ct);
                    remaining -= read;
                }
                await crypto.FlushFinalBlockAsync(ct);
            }
        }
        catch (CryptographicException)
        {
            throw Damaged("contenu chiffré altéré");
        }
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
}

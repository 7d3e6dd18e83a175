using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;
using System.Xml.Linq;
using Cimef.Site.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Data;

/// <summary>
/// The Data Protection key ring (patient and staff cookies, the re-printable password copies, the credential secret
/// row). <see cref="KeyRingOptions"/> chooses its store: the keys directory of the data directory (one node, SQLite
/// default: a leaked database file alone reveals nothing) or the database (several nodes on PostgreSQL share it). With
/// <c>DataProtection:CertificatePath</c> every key is encrypted at rest with the clinic's certificate.
/// The store is chosen when the key manager is first built, not at registration, so late configuration (test hosts,
/// command line) counts, as for <see cref="DatabaseSetup"/>.
/// </summary>
public static class KeyRing
{
    public static IServiceCollection AddKeyRing(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("CimefPortal");
        services.AddSingleton<KeyRingCertificate>();
        services.AddOptions<KeyManagementOptions>()
            .Configure<IOptions<KeyRingOptions>, IOptions<DatabaseOptions>, IOptions<StorageOptions>, KeyRingCertificate, IServiceProvider>(
                (o, keyRing, database, storage, certificate, sp) =>
                {
                    var logs = sp.GetRequiredService<ILoggerFactory>();
                    o.XmlRepository = keyRing.Value.InDatabase(database.Value)
                        ? new EntityFrameworkCoreXmlRepository<CimefDb>(sp, logs)
                        : new FileSystemXmlRepository(new DirectoryInfo(storage.Value.KeysDirectory), logs);
                    if (certificate.Value is { } cert) o.XmlEncryptor = new CertificateKeyEncryptor(cert, logs);
                });
        return services;
    }

    /// <summary>
    /// Keys in the database with no certificate encrypting them: anyone who reads the database (a dump, a replica, a
    /// backup) holds the whole key ring, so they can mint staff sign-in cookies and decrypt every stored password copy.
    /// Null when the keys are elsewhere or encrypted; otherwise the French reason, and whether the site must refuse to
    /// start for it (outside Development, unless <c>KeyRing:AllowUnprotected=true</c>). The start (Program)
    /// refuses and the <c>check</c> verb reports through this one rule.
    /// </summary>
    public static (string Message, bool Refused)? Unprotected(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<KeyRingOptions>>().Value;
        var database = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (!options.InDatabase(database) || !string.IsNullOrWhiteSpace(options.CertificatePath)) return null;
        var refused = !services.GetRequiredService<IOptions<KeyRingSafetyOptions>>().Value.AllowUnprotected && !services.GetRequiredService<IHostEnvironment>().IsDevelopment();
        return ("Le trousseau de clés Data Protection est stocké dans la base de données sans certificat (DataProtection:CertificatePath) : "
            + "quiconque lit la base (copie, sauvegarde, réplique) pourrait fabriquer des cookies de connexion du personnel et lire les copies "
            + "des mots de passe des patients. Configurez un certificat PFX dans DataProtection:CertificatePath, ou acceptez ce risque "
            + "explicitement avec KeyRing:AllowUnprotected=true.", refused);
    }

    /// <summary>The site's start: an unprotected key ring it must refuse is a configuration error (French message, exit code 3).</summary>
    public static void RefuseUnprotected(IServiceProvider services)
    {
        if (Unprotected(services) is { Refused: true } problem)
            throw new OptionsValidationException(KeyRingOptions.Section, typeof(KeyRingOptions), [problem.Message]);
    }

    /// <summary>
    /// Start-up (after migrations): when the key ring lives in the database and its table is still empty, the keys
    /// of the keys directory are copied in once — a clinic switching from FileSystem keeps every session and every
    /// stored password copy readable. Warns when the database holds the keys without a certificate protecting them.
    /// </summary>
    public static async Task PrepareAsync(IServiceProvider services, ILogger log, CancellationToken ct)
    {
        var options = services.GetRequiredService<IOptions<KeyRingOptions>>().Value;
        var database = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var certificate = services.GetRequiredService<KeyRingCertificate>().Value;
        if (!options.InDatabase(database)) return;
        if (certificate is null)
            log.LogWarning("The Data Protection key ring is stored in the database without DataProtection:CertificatePath: "
                + "whoever reads the database can read the stored password copies. Configure a certificate (PFX).");

        var directory = services.GetRequiredService<IOptions<StorageOptions>>().Value.KeysDirectory;
        var files = Directory.Exists(directory) ? Directory.GetFiles(directory, "key-*.xml") : [];
        if (files.Length == 0) return;
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
        // Nodes upgraded together from a shared keys folder would each see the table empty: one imports, the others wait and skip.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (SqlDialect.Of(db).TransactionLock(LockSpace.KeyRingImport, "{0}") is { } keyLock)
            await db.Database.ExecuteSqlRawAsync(keyLock, ["keys"], ct);
        if (await db.DataProtectionKeys.AnyAsync(ct)) return;
        foreach (var file in files.Order(StringComparer.Ordinal))
            db.DataProtectionKeys.Add(new DataProtectionKey
            {
                FriendlyName = Path.GetFileNameWithoutExtension(file),
                Xml = await File.ReadAllTextAsync(file, ct),
            });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        log.LogInformation("Imported {Count} Data Protection key(s) from the keys directory into the database.", files.Length);
    }
}

/// <summary>The clinic's certificate (PFX with its private key) that encrypts the key ring at rest, if configured.</summary>
public sealed class KeyRingCertificate(IOptions<KeyRingOptions> options)
{
    private readonly Lazy<X509Certificate2?> _value = new(() => Load(options.Value));

    public X509Certificate2? Value => _value.Value;

    /// <summary>Loads the PFX; a missing or unreadable one is a French configuration error (null when none is configured).</summary>
    public static X509Certificate2? Load(KeyRingOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.CertificatePath)) return null;
        if (!File.Exists(options.CertificatePath))
            throw Invalid($"DataProtection:CertificatePath : le certificat « {options.CertificatePath} » est introuvable.");
        X509Certificate2 cert;
        try
        {
            cert = X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException)
        {
            throw Invalid(
                $"DataProtection:CertificatePath : le certificat « {options.CertificatePath} » est illisible (fichier PFX attendu, vérifiez DataProtection:CertificatePassword).");
        }
        using var rsa = cert.GetRSAPrivateKey();
        if (rsa is null)
            throw Invalid(
                $"DataProtection:CertificatePath : le certificat « {options.CertificatePath} » doit contenir une clé privée RSA.");
        return cert;
    }

    /// <summary>Answered like every other wrong setting: the French message and exit code 3 (Program.InvalidConfiguration).</summary>
    private static OptionsValidationException Invalid(string message) =>
        new(KeyRingOptions.Section, typeof(KeyRingOptions), [message]);
}

/// <summary>
/// Encrypts each key with the certificate (XML encryption, as <see cref="CertificateXmlEncryptor"/> does) and names
/// <see cref="CertificateKeyDecryptor"/> to read it back: the framework's own decryptor takes its certificates from a
/// registration-time setting or the machine's certificate store, while this one takes the configured PFX.
/// </summary>
public sealed class CertificateKeyEncryptor(X509Certificate2 certificate, ILoggerFactory logs) : IXmlEncryptor
{
    private readonly CertificateXmlEncryptor _inner = new(certificate, logs);

    public EncryptedXmlInfo Encrypt(XElement plaintextElement) =>
        new(_inner.Encrypt(plaintextElement).EncryptedElement, typeof(CertificateKeyDecryptor));
}

/// <summary>Decrypts what <see cref="CertificateKeyEncryptor"/> wrote, with the configured certificate's private key.</summary>
public sealed class CertificateKeyDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var certificate = services.GetRequiredService<KeyRingCertificate>().Value
            ?? throw new InvalidOperationException("The key ring is encrypted with a certificate, but DataProtection:CertificatePath is not set.");
        var document = new XmlDocument { PreserveWhitespace = true };
        using (var reader = encryptedElement.CreateReader()) document.Load(reader);
        new CertificateEncryptedXml(document, certificate).DecryptDocument();
        return XElement.Parse(document.DocumentElement!.OuterXml);
    }

    private sealed class CertificateEncryptedXml(XmlDocument document, X509Certificate2 certificate) : EncryptedXml(document)
    {
        public override byte[]? DecryptEncryptedKey(EncryptedKey encryptedKey)
        {
            using var rsa = certificate.GetRSAPrivateKey()!;
            var oaep = encryptedKey.EncryptionMethod?.KeyAlgorithm == XmlEncRSAOAEPUrl;
            return DecryptKey(encryptedKey.CipherData.CipherValue!, rsa, oaep);
        }
    }
}

using System.Security.Cryptography;
using System.Text;
using Cimef.Site.Data;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;

namespace Cimef.Site.Access;

/// <summary>
/// Password storage per DESIGN §5: a keyed hash (HMAC-SHA256) for verification, and a Data Protection-encrypted copy
/// for re-printing. The HMAC secret is the same on every node: <c>Access:CredentialSecret</c> when configured;
/// otherwise it lives with the key ring — a file beside it (FileSystem key store, never in the database), or with the
/// Database key store a row encrypted by the key ring itself (so the database alone still tests nothing). Never logged.
/// </summary>
public sealed class CredentialProtector
{
    private const string SecretFileName = "credential-hmac.secret";
    private const string SecretRowName = "credential-hmac";
    private readonly byte[] _secret;
    private readonly byte[] _keySecret;
    private readonly byte[] _shareCodeSecret;
    private readonly byte[] _offlineSecret;
    private readonly byte[] _recoverySecret;
    private readonly IDataProtector _protector;

    public CredentialProtector(IOptions<StorageOptions> storage, IOptions<AccessOptions> access, IOptions<KeyRingOptions> keyRing,
        IOptions<DatabaseOptions> database, IDataProtectionProvider dataProtection, IServiceScopeFactory scopes)
    {
        _secret = access.Value.CredentialSecret is { } configured ? Convert.FromBase64String(configured.Trim())
            : keyRing.Value.InDatabase(database.Value)
                ? LoadOrCreateSharedSecret(storage.Value.KeysDirectory, dataProtection.CreateProtector("Cimef.ClusterSecret.v1"), scopes)
                : LoadOrCreateSecret(storage.Value.KeysDirectory);
        // A derived key, so a key hash can never be confused with (or tested against) a password hash.
        _keySecret = HKDF.DeriveKey(HashAlgorithmName.SHA256, _secret, 32, info: Encoding.UTF8.GetBytes("Cimef.LoginFailure.Key.v1"));
        _shareCodeSecret = HKDF.DeriveKey(HashAlgorithmName.SHA256, _secret, 32, info: Encoding.UTF8.GetBytes("Cimef.ReportShare.Code.v1"));
        _offlineSecret = HKDF.DeriveKey(HashAlgorithmName.SHA256, _secret, 32, info: Encoding.UTF8.GetBytes("Cimef.OfflineCopies.v1"));
        _recoverySecret = HKDF.DeriveKey(HashAlgorithmName.SHA256, _secret, 32, info: Encoding.UTF8.GetBytes("Cimef.Recovery.v1"));
        _protector = dataProtection.CreateProtector("Cimef.PatientAccess.Password.v1");
    }

    public byte[] Hash(string password) =>
        HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(CredentialGenerator.NormalizePassword(password)));

    /// <summary>
    /// Keyed hash of a normalised access key (128 bits, hex) for the failure table: whoever reads the database
    /// cannot recover the keys that were tried, and cannot test a guess without the secret.
    /// </summary>
    public string KeyHash(string normalizedKey) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_keySecret, Encoding.UTF8.GetBytes(normalizedKey)), 0, 16);

    /// <summary>
    /// Keyed hash of a share's 6-digit code, bound to that share's token hash: the database alone cannot test the
    /// million codes, and one share's hash says nothing about another's.
    /// </summary>
    public byte[] ShareCodeHash(string tokenHash, string code) =>
        HMACSHA256.HashData(_shareCodeSecret, Encoding.UTF8.GetBytes(tokenHash + ":" + code));

    /// <summary>
    /// Keyed hashes for password recovery (<see cref="PatientRecovery"/>): of an address (« p:+221… », 128 bits hex),
    /// of a code bound to its address's hash, and of a recovery token (hex) — the database alone can test no phone
    /// number, no code and no token. The prefixes keep the three apart.
    /// </summary>
    public string RecoveryContactHash(string normalizedContact) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_recoverySecret, Encoding.UTF8.GetBytes("contact:" + normalizedContact)), 0, 16);

    /// <inheritdoc cref="RecoveryContactHash"/>
    public byte[] RecoveryCodeHash(string contactHash, string code) =>
        HMACSHA256.HashData(_recoverySecret, Encoding.UTF8.GetBytes("code:" + contactHash + ":" + code));

    /// <inheritdoc cref="RecoveryContactHash"/>
    public string RecoveryTokenHash(string token) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_recoverySecret, Encoding.UTF8.GetBytes("token:" + token)));

    /// <summary>
    /// The name of the phone cache that holds one access's offline copies: opaque and stable for that access,
    /// so the service worker can tell patients apart on a shared phone without the page ever naming the key or the id.
    /// </summary>
    public string OfflineCacheName(int accessId) =>
        "cimef-copies-" + Convert.ToHexStringLower(HMACSHA256.HashData(_offlineSecret, Encoding.UTF8.GetBytes(accessId.ToString(System.Globalization.CultureInfo.InvariantCulture))), 0, 16);

    /// <summary>Constant-time comparison. Pass <c>null</c> for an unknown key: the same work is done.</summary>
    public bool Verify(string password, byte[]? storedHash)
    {
        var computed = Hash(password);
        var expected = storedHash is { Length: 32 } ? storedHash : new byte[32];
        var equal = CryptographicOperations.FixedTimeEquals(computed, expected);
        return equal && storedHash is { Length: 32 };
    }

    public string Protect(string password) => _protector.Protect(password);

    public string Unprotect(string protectedPassword) => _protector.Unprotect(protectedPassword);

    /// <summary>
    /// Database key store: the row every node reads. Created by insert-if-absent then read back, so nodes starting
    /// together all end with the first row written; a clinic moving from FileSystem brings its file's secret along
    /// (otherwise no stored password would verify any more).
    /// </summary>
    private static byte[] LoadOrCreateSharedSecret(string keysDirectory, IDataProtector protector, IServiceScopeFactory scopes)
    {
        using var scope = scopes.CreateScope();
        var conn = scope.ServiceProvider.GetRequiredService<CimefDb>().Database.GetDbConnection();
        const string read = """SELECT "ProtectedValue" FROM "ClusterSecrets" WHERE "Name" = @name""";
        var stored = conn.QuerySingleOrDefault<string>(read, new { name = SecretRowName });
        if (stored is null)
        {
            var file = Path.Combine(keysDirectory, SecretFileName);
            var secret = File.Exists(file) ? Convert.FromBase64String(File.ReadAllText(file).Trim()) : RandomNumberGenerator.GetBytes(32);
            conn.Execute("""
                INSERT INTO "ClusterSecrets" ("Name", "ProtectedValue") VALUES (@name, @value) ON CONFLICT ("Name") DO NOTHING
                """, new { name = SecretRowName, value = protector.Protect(Convert.ToBase64String(secret)) });
            stored = conn.QuerySingle<string>(read, new { name = SecretRowName });
        }
        return Convert.FromBase64String(protector.Unprotect(stored));
    }

    private static byte[] LoadOrCreateSecret(string keysDirectory)
    {
        Directory.CreateDirectory(keysDirectory);
        var path = Path.Combine(keysDirectory, SecretFileName);
        if (File.Exists(path)) return Convert.FromBase64String(File.ReadAllText(path).Trim());
        var secret = RandomNumberGenerator.GetBytes(32);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, Convert.ToBase64String(secret));
        try
        {
            File.Move(tmp, path, overwrite: false);
        }
        catch (IOException)
        {
            // Another process (CLI beside the running site) created it first: use theirs.
            File.Delete(tmp);
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return secret;
    }
}

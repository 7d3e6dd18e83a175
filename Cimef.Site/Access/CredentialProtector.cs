using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Access;

/// <summary>
/// Password storage per DESIGN §5: a keyed hash (HMAC-SHA256, secret kept beside the Data Protection key ring,
/// never in the database) for verification, and a Data Protection-encrypted copy for re-printing.
/// </summary>
public sealed class CredentialProtector
{
    private const string SecretFileName = "credential-hmac.secret";
    private readonly byte[] _secret;
    private readonly IDataProtector _protector;

    public CredentialProtector(IOptions<StorageOptions> storage, IDataProtectionProvider dataProtection)
    {
        _secret = LoadOrCreateSecret(storage.Value.KeysDirectory);
        _protector = dataProtection.CreateProtector("Cimef.PatientAccess.Password.v1");
    }

    public byte[] Hash(string password) =>
        HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(CredentialGenerator.NormalizePassword(password)));

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

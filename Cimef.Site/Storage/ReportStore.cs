using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Storage;

/// <summary>
/// Report files under data/reports/yyyy/MM/random.ext, outside the web root, never under the client's name.
/// Save = temp file in the same folder, flushed to disk, renamed; the caller then commits the database row
/// (and calls <see cref="Delete"/> if that commit fails). Leftover temp files are removed at start.
/// </summary>
public class ReportStore(IOptions<StorageOptions> storage, TimeProvider time)
{
    public const string TempPrefix = ".upload-";
    private string Root => storage.Value.ReportsDirectory;

    public sealed record StoredFile(string StoredFileName, long Size, string Sha256);

    public async Task<StoredFile> SaveAsync(Stream content, string extension, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var relativeDir = Path.Combine(now.ToString("yyyy"), now.ToString("MM"));
        var dir = Path.Combine(Root, relativeDir);
        PrivateFiles.CreateDirectory(dir);
        var name = RandomName() + "." + extension.TrimStart('.').ToLowerInvariant();
        var temp = Path.Combine(dir, TempPrefix + RandomName());
        try
        {
            long size;
            byte[] hash;
            await using (var file = CreateTempFile(temp))
            using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
                size = file.Length;
                hash = sha.GetHashAndReset();
            }
            File.Move(temp, Path.Combine(dir, name));
            return new StoredFile(Path.Combine(relativeDir, name).Replace('\\', '/'), size, Convert.ToHexStringLower(hash));
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Opens a new temp file for writing (overridden by the fault tests to simulate a full disk where no tmpfs can be mounted).</summary>
    protected virtual FileStream CreateTempFile(string path) => PrivateFiles.CreateNew(path, 81920, FileOptions.Asynchronous);

    /// <summary>Absolute path of a stored file; refuses anything that would leave the reports folder.</summary>
    public string FullPath(string storedFileName)
    {
        var root = Path.GetFullPath(Root) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(root, storedFileName));
        if (!full.StartsWith(root, StringComparison.Ordinal)) throw new InvalidOperationException("Stored file name escapes the reports folder.");
        return full;
    }

    public bool Exists(string storedFileName) => File.Exists(FullPath(storedFileName));

    public void Delete(string storedFileName) => TryDelete(FullPath(storedFileName));

    public async Task<string?> ComputeSha256Async(string storedFileName, CancellationToken ct = default)
    {
        var path = FullPath(storedFileName);
        if (!File.Exists(path)) return null;
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
    }

    /// <summary>Removes temp files left by an interrupted upload. Returns how many were removed.</summary>
    public int CleanupTempFiles()
    {
        if (!Directory.Exists(Root)) return 0;
        var removed = 0;
        foreach (var f in Directory.EnumerateFiles(Root, TempPrefix + "*", SearchOption.AllDirectories))
        {
            TryDelete(f);
            removed++;
        }
        return removed;
    }

    private static string RandomName() => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 24);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

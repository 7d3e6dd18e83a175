using System.Security.Cryptography;

namespace Cimef.Site.Storage;

/// <summary>
/// Where report files live: <see cref="FileSystemReportStore"/> (data/reports, the default) or
/// <see cref="S3ReportStore"/> (one bucket shared by several web nodes), chosen by Storage:Reports:Provider.
/// Both keep the same contract: <see cref="SaveAsync"/> returns only once the file is complete, durable and its
/// SHA-256 known (computed while streaming); the caller then commits the database row and calls
/// <see cref="DeleteAsync"/> if that commit fails, so no file a patient can reach is ever partial or orphaned.
/// Names are server-generated (yyyy/MM/random.ext), never the client's.
/// </summary>
public abstract class ReportStore
{
    public const string TempPrefix = ".upload-";

    public sealed record StoredFile(string StoredFileName, long Size, string Sha256);

    /// <summary>
    /// A stored file opened for reading: a seekable stream that reads only what is asked of it (a range request
    /// seeks then reads its slice; nothing is buffered whole), its length and last write time.
    /// </summary>
    public sealed record OpenedFile(Stream Content, long Length, DateTimeOffset LastModified);

    /// <summary>Thrown when the store itself cannot be reached or refuses the request (object store down, bad credentials).</summary>
    public sealed class UnavailableException : IOException
    {
        // Every failed request to the object store ends here (or in one of its logged clean-ups): the one place to count it.
        public UnavailableException(string message, Exception inner) : base(message, inner) => Web.CimefMetrics.StorageError();
    }

    public abstract Task<StoredFile> SaveAsync(Stream content, string extension, CancellationToken ct = default);

    /// <summary>Null when the file does not exist.</summary>
    public abstract Task<OpenedFile?> OpenReadAsync(string storedFileName, CancellationToken ct = default);

    public abstract Task DeleteAsync(string storedFileName, CancellationToken ct = default);

    /// <summary>Every stored file's name (temp files excluded), for the orphan report and backups.</summary>
    public abstract IAsyncEnumerable<string> ListAsync(CancellationToken ct = default);

    /// <summary>Writes a file under a given name (restore from a backup); complete or absent, as for <see cref="SaveAsync"/>.</summary>
    public abstract Task PutAsync(string storedFileName, Stream content, CancellationToken ct = default);

    /// <summary>
    /// Removes temporary uploads that no node can still be writing: older than Storage:Reports:TempMaxAgeMinutes,
    /// or (file system) left by an earlier run of this very node. Returns how many were removed.
    /// </summary>
    public abstract Task<int> CleanupTempFilesAsync(CancellationToken ct = default);

    public async Task<string?> ComputeSha256Async(string storedFileName, CancellationToken ct = default)
    {
        var file = await OpenReadAsync(storedFileName, ct);
        if (file is null) return null;
        await using var content = file.Content;
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(content, ct));
    }

    /// <summary>Health probe (/healthz): a tiny file stored the way a report is (written, verified), then deleted.</summary>
    public async Task<bool> ProbeAsync(CancellationToken ct = default)
    {
        try
        {
            var probe = await SaveAsync(new MemoryStream("ok"u8.ToArray()), "probe", ct);
            await DeleteAsync(probe.StoredFileName, ct);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The safe-age rule shared by both stores: a temp upload started before now - maxAge is abandoned.</summary>
    public static bool IsAbandoned(DateTimeOffset started, DateTimeOffset now, TimeSpan maxAge) => now - started > maxAge;

    protected static string NewName(DateTime now, string extension) =>
        $"{now:yyyy}/{now:MM}/{RandomName()}.{extension.TrimStart('.').ToLowerInvariant()}";

    protected static string RandomName() => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 24);

    /// <summary>Refuses a name that could leave the reports folder or bucket prefix, or that looks like a temp file.</summary>
    protected static string CheckName(string storedFileName)
    {
        var segments = storedFileName.Split('/');
        if (storedFileName.Length == 0 || storedFileName.Contains('\\') || storedFileName.Contains(':')
            || segments.Any(s => s.Length == 0 || s.StartsWith('.')))
            throw new InvalidOperationException("Stored file name escapes the reports folder.");
        return storedFileName;
    }
}

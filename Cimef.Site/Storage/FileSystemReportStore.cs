using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Cimef.Site.Reports;

namespace Cimef.Site.Storage;

/// <summary>
/// Report files under data/reports/yyyy/MM/random.ext, outside the web root. Save = temp file in the same folder
/// (named .upload-NODE.MACHINE.PID.random), flushed to disk, renamed. The reports folder may be shared by several nodes
/// (NFS): the clean-up removes a temp file once the process that wrote it (same machine, process id) no longer runs,
/// and any other only once it is older than the safe age, so it never deletes an upload in progress.
/// </summary>
public class FileSystemReportStore(IOptions<StorageOptions> storage, IOptions<ClusterOptions> cluster, TimeProvider time) : ReportStore
{
    private string Root => storage.Value.ReportsDirectory;
    private static readonly string Machine = SafeName(Environment.MachineName);
    private static readonly DateTime ProcessStartUtc = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();

    /// <summary>This process's temp files: the node (Cluster:NodeName), then the machine and process id that say whether the writer still runs.</summary>
    private string OwnTempPrefix => $"{TempPrefix}{SafeName(cluster.Value.NodeName)}.{Machine}.{Environment.ProcessId}.";

    public override async Task<StoredFile> SaveAsync(Stream content, string extension, CancellationToken ct = default)
    {
        var name = NewName(time.GetUtcNow().UtcDateTime, extension);
        var (size, hash) = await WriteAsync(name, content, ct);
        return new StoredFile(name, size, hash);
    }

    public override async Task PutAsync(string storedFileName, Stream content, CancellationToken ct = default) =>
        await WriteAsync(CheckName(storedFileName), content, ct);

    private async Task<(long Size, string Sha256)> WriteAsync(string name, Stream content, CancellationToken ct)
    {
        var target = FullPath(name);
        var dir = Path.GetDirectoryName(target)!;
        PrivateFiles.CreateDirectory(dir);
        var temp = Path.Combine(dir, OwnTempPrefix + RandomName());
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
            File.Move(temp, target, overwrite: true);
            return (size, Convert.ToHexStringLower(hash));
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

    public override Task<OpenedFile?> OpenReadAsync(string storedFileName, CancellationToken ct = default)
    {
        try
        {
            // No FileStream buffer (bufferSize 0): the response reads straight into the connection's output (ReportResponse),
            // so an 80 KB array per download was only garbage (a third of the bytes allocated under the 200-patient load).
            var stream = new FileStream(FullPath(storedFileName), FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<OpenedFile?>(new OpenedFile(stream, stream.Length, File.GetLastWriteTimeUtc(stream.SafeFileHandle)));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<OpenedFile?>(null);
        }
    }

    public override Task DeleteAsync(string storedFileName, CancellationToken ct = default)
    {
        TryDelete(FullPath(storedFileName));
        return Task.CompletedTask;
    }

    public override async IAsyncEnumerable<string> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        if (!Directory.Exists(Root)) yield break;
        foreach (var f in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            ct.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(Root, f).Replace('\\', '/');
            if (relative.Split('/').Any(s => s.StartsWith('.'))) continue;
            yield return relative;
        }
        await Task.CompletedTask;
    }

    public override Task<int> CleanupTempFilesAsync(CancellationToken ct = default)
    {
        if (!Directory.Exists(Root)) return Task.FromResult(0);
        var now = time.GetUtcNow();
        var maxAge = TimeSpan.FromMinutes(storage.Value.Reports.TempMaxAgeMinutes);
        var removed = 0;
        foreach (var f in Directory.EnumerateFiles(Root, TempPrefix + "*", SearchOption.AllDirectories))
        {
            var written = File.GetLastWriteTimeUtc(f);
            if (!IsAbandoned(written, now, maxAge) && WriterMayRun(Path.GetFileName(f), written)) continue;
            TryDelete(f);
            removed++;
        }
        return Task.FromResult(removed);
    }

    /// <summary>
    /// False only when the temp file's writer is known to be gone: a process of this machine that no longer runs, or
    /// this process's id carried by a file older than this process (the id was reused, e.g. pid 1 in a container).
    /// Files of other machines or without the machine and id (older versions) wait for the safe age.
    /// </summary>
    private static bool WriterMayRun(string fileName, DateTime writtenUtc)
    {
        var parts = fileName[TempPrefix.Length..].Split('.');
        if (parts.Length != 4 || parts[1] != Machine || !int.TryParse(parts[2], out var pid)) return true;
        if (pid == Environment.ProcessId) return writtenUtc >= ProcessStartUtc;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>A node or machine name reduced to the characters a file name may safely carry (no dot: the separator).</summary>
    private static string SafeName(string machine)
    {
        var name = new string(machine.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_').ToArray());
        return name.Length == 0 ? "node" : name.Length > 64 ? name[..64] : name;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

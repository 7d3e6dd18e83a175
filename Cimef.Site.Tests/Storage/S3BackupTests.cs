using Amazon.S3.Model;
using Cimef.Site.Tests.Data;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Cimef.Site.Tests.Storage;

/// <summary>backup, restore and check as real processes with the reports in an S3 bucket (s3rver).</summary>
public sealed class S3BackupTests : IDisposable
{
    private readonly S3Server _s3 = new();
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cimef-s3-cli", Guid.NewGuid().ToString("N"));
    private string Data => Path.Combine(_root, "data");
    private Dictionary<string, string> Env => _s3.Settings().ToDictionary(kv => kv.Key.Replace(":", "__"), kv => kv.Value!);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Npgsql.NpgsqlConnection.ClearAllPools();
        TestDatabase.Release(Data);
        _s3.Dispose();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private async Task<Dictionary<string, byte[]>> ObjectsAsync()
    {
        using var client = _s3.Client();
        var result = new Dictionary<string, byte[]>();
        foreach (var o in (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3Server.Bucket })).S3Objects ?? [])
        {
            using var get = await client.GetObjectAsync(S3Server.Bucket, o.Key);
            using var copy = new MemoryStream();
            await get.ResponseStream.CopyToAsync(copy);
            result[o.Key] = copy.ToArray();
        }
        return result;
    }

    [Fact]
    public async Task Backup_streams_the_objects_out_restore_puts_them_back_and_check_hashes_them()
    {
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, Env, "seed-demo")).ExitCode);
        var objects = await ObjectsAsync();
        Assert.NotEmpty(objects);
        Assert.False(Directory.Exists(Path.Combine(Data, "reports")) && Directory.EnumerateFiles(Path.Combine(Data, "reports"), "*", SearchOption.AllDirectories).Any());

        var backupDir = Path.Combine(_root, "backup");
        var backup = await SiteProcess.RunAsync(Data, Env, "backup", "--out", backupDir);
        Assert.True(backup.ExitCode == 0, backup.Stderr);
        foreach (var (key, bytes) in objects)
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(backupDir, "reports", key)));

        // An object lost after the backup: check fails, restore puts it back, check passes.
        using (var client = _s3.Client())
            await client.DeleteObjectAsync(S3Server.Bucket, objects.Keys.First());
        var broken = await SiteProcess.RunAsync(Data, Env, "check");
        Assert.NotEqual(0, broken.ExitCode);
        Assert.Contains("fichier manquant", broken.Stderr);

        var restore = await SiteProcess.RunAsync(Data, Env, "restore", "--from", backupDir);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Equal(objects, await ObjectsAsync());
        var check = await SiteProcess.RunAsync(Data, Env, "check");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.Contains("Fichiers sans rapport associé (sans danger, à examiner) : 0", check.Stdout);
    }
}

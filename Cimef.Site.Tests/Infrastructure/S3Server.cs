using System.Diagnostics;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Cimef.Site.Tests.Notifications;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>
/// s3rver (npm, devDependency) on a free loopback port with one bucket, in a temp folder; killed (with its
/// process tree) and its folder removed on dispose. The site reaches it with its default credentials S3RVER/S3RVER.
/// </summary>
public sealed class S3Server : IDisposable
{
    public const string Bucket = "cimef-reports";
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly Process _process;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "cimef-s3", Guid.NewGuid().ToString("N"));

    public int Port { get; }
    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    public S3Server()
    {
        var script = Path.Combine(RepoRoot(), "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script)) throw new InvalidOperationException($"{script} is missing: run npm ci at the repository root.");
        Directory.CreateDirectory(_directory);
        Port = FreePort.Next();
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, "--directory", _directory, "--port", Port.ToString(), "--address", "127.0.0.1", "--silent", "--configure-bucket", Bucket })
            start.ArgumentList.Add(a);
        _process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        // Polls: s3rver gives no readiness signal other than accepting connections on its port.
        // s3rver signals nothing when it starts listening: poll its port (30 s at most).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"s3rver exited with code {_process.ExitCode}.");
            try
            {
                using var probe = new TcpClient();
                probe.Connect("127.0.0.1", Port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>The site's settings for this server (path-style URLs, as for any self-hosted S3-compatible server).</summary>
    public IEnumerable<KeyValuePair<string, string?>> Settings(int partSizeMegabytes = 5) =>
    [
        new("Storage:Reports:Provider", "S3"),
        new("Storage:Reports:S3:ServiceUrl", ServiceUrl),
        new("Storage:Reports:S3:Bucket", Bucket),
        new("Storage:Reports:S3:AccessKey", AccessKey),
        new("Storage:Reports:S3:SecretKey", SecretKey),
        new("Storage:Reports:S3:ForcePathStyle", "true"),
        new("Storage:Reports:S3:PartSizeMegabytes", partSizeMegabytes.ToString()),
    ];

    /// <summary>A client of its own, to change the bucket behind the store's back.</summary>
    public AmazonS3Client Client() => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = ServiceUrl,
        AuthenticationRegion = "us-east-1",
        ForcePathStyle = true,
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cimef.sln"))) return dir.FullName;
        throw new InvalidOperationException("Repository root (Cimef.sln) not found above " + AppContext.BaseDirectory);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>The site on an s3rver bucket (Storage:Reports:Provider=S3); everything else as <see cref="CimefFactory"/>.</summary>
public sealed class S3CimefFactory : CimefFactory
{
    public S3Server S3 { get; } = new();

    public S3CimefFactory()
    {
        foreach (var (k, v) in S3.Settings()) Settings[k] = v;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) S3.Dispose();
    }
}

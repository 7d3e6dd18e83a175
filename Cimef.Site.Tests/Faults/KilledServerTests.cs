using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Faults;

/// <summary>
/// The site running as a real server process, killed with SIGKILL in the middle of an upload or of a burst of
/// payments: the data directory it leaves must be consistent and `check` must pass on it.
/// </summary>
[Trait("Provider", "SqliteOnly")] // SQLite crash safety (WAL, integrity_check after a kill)
public class KilledServerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cimef-kill-tests", Guid.NewGuid().ToString("N"));
    private string Data => Path.Combine(_root, "data");
    private string Database => Path.Combine(Data, "cimef.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    /// <summary>Prepares the data directory in-process (then releases it) before the server process starts on it.</summary>
    private async Task<T> PrepareAsync<T>(Func<CimefFactory, Task<T>> work)
    {
        Directory.CreateDirectory(Data);
        using var factory = new CimefFactory();
        factory.Settings["Storage:DataDirectory"] = Data;
        var result = await work(factory);
        SqliteConnection.ClearAllPools();
        return result;
    }

    [Fact]
    public async Task Killed_during_an_upload_body_leaves_no_report_row_no_file_and_a_passing_check()
    {
        var (invoiceNumber, token) = await PrepareAsync(async f =>
        {
            var s = await f.Data.PatientAsync(status: InvoiceStatus.Paid);
            return (s.InvoiceNumber, await f.Data.ApiTokenAsync(Roles.Doctor));
        });
        // The server buffers multipart files to ASPNETCORE_TEMP: watching it shows the body is being received.
        var aspnetTemp = Path.Combine(_root, "aspnet-temp");
        Directory.CreateDirectory(aspnetTemp);
        await using var server = await SiteServer.StartAsync(Data, new Dictionary<string, string> { ["ASPNETCORE_TEMP"] = aspnetTemp });

        using var http = new HttpClient { BaseAddress = new Uri(server.Address) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var body = new StalledUpload(invoiceNumber, sendBeforeStall: 2 * 1024 * 1024);
        var upload = http.PostAsync("/api/reports/", body);

        await body.Stalled.WaitAsync(TimeSpan.FromSeconds(30));
        var sw = Stopwatch.StartNew();
        while (!Directory.EnumerateFiles(aspnetTemp).Any(f => new FileInfo(f).Length >= 1024 * 1024))
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "the server never started receiving the file");
            await Task.Delay(20); // polling a child process: real time, not test time
        }
        await server.KillAsync();
        body.Release();
        await Assert.ThrowsAnyAsync<Exception>(() => upload);

        Assert.Equal("ok", Sqlite.IntegrityCheck(Database));
        Assert.Equal(0L, Scalar("SELECT COUNT(*) FROM PatientReports"));
        Assert.Equal(0L, Scalar("SELECT COUNT(*) FROM OutboxMessages WHERE Kind = 'ReportAvailable'"));
        SqliteConnection.ClearAllPools();
        Assert.All(ReportFiles(), f => Assert.StartsWith(ReportStore.TempPrefix, Path.GetFileName(f)));

        // The next start (here the `check` verb, which runs the same start-up) removes temp files and finds everything sound.
        var check = await SiteProcess.RunAsync(Data, "check");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.Empty(ReportFiles());
    }

    [Fact]
    public async Task Killed_while_the_report_file_is_written_leaves_either_nothing_or_a_complete_report()
    {
        var (invoiceNumber, token) = await PrepareAsync(async f =>
        {
            var s = await f.Data.PatientAsync(status: InvoiceStatus.Paid);
            return (s.InvoiceNumber, await f.Data.ApiTokenAsync(Roles.Doctor));
        });
        await using var server = await SiteServer.StartAsync(Data);
        // The server files reports under its own clock's yyyy/MM: watch that folder for the store's temp file.
        var now = DateTime.UtcNow;
        var month = Path.Combine(Data, "reports", now.ToString("yyyy"), now.ToString("MM"));
        Directory.CreateDirectory(month);
        var killed = false;
        using var watcher = new FileSystemWatcher(month, ReportStore.TempPrefix + "*");
        watcher.Created += (_, _) =>
        {
            server.Kill();
            killed = true;
        };
        watcher.EnableRaisingEvents = true;

        using var http = new HttpClient { BaseAddress = new Uri(server.Address), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var file = new byte[4 * 1024 * 1024];
        Random.Shared.NextBytes(file);
        PdfBytes.CopyTo(file, 0);
        try
        {
            await http.PostAsync("/api/reports/", Multipart(new("invoice_number", invoiceNumber), new("title", "IRM"), new("file", FileName: "irm.pdf", Bytes: file)));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // expected: the server died under the request
        }
        await server.KillAsync();
        Assert.True(killed, "the store never started writing the file");

        Assert.Equal("ok", Sqlite.IntegrityCheck(Database));
        // Either the commit happened before the kill (row + complete file) or nothing is visible at all.
        var rows = Rows("SELECT StoredFileName, Sha256 FROM PatientReports");
        Assert.True(rows.Count <= 1);
        foreach (var (stored, sha) in rows)
        {
            var path = Path.Combine(Data, "reports", stored);
            Assert.True(File.Exists(path), $"report row points to a missing file {stored}");
            Assert.Equal(sha, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(path))));
        }
        // A file without a row can only be the complete upload, renamed just before the kill and never committed
        // (the store's order is temp → flush → rename → commit): unreachable by anyone, never half-written.
        var named = rows.Select(r => Path.GetFullPath(Path.Combine(Data, "reports", r.Item1))).ToHashSet();
        var orphans = ReportFiles().Where(f => !Path.GetFileName(f).StartsWith(ReportStore.TempPrefix) && !named.Contains(Path.GetFullPath(f))).ToList();
        Assert.True(orphans.Count <= 1);
        foreach (var orphan in orphans)
        {
            var bytes = await File.ReadAllBytesAsync(orphan);
            Assert.True(file.AsSpan().SequenceEqual(bytes), "a visible file is incomplete");
        }
        output.WriteLine($"killed at: {(rows.Count == 1 ? "after the commit" : orphans.Count == 1 ? "between rename and commit" : "while writing the temp file")}");
        SqliteConnection.ClearAllPools();

        var check = await SiteProcess.RunAsync(Data, "check");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.DoesNotContain(ReportFiles(), f => Path.GetFileName(f).StartsWith(ReportStore.TempPrefix));
    }

    [Fact]
    public async Task Killed_during_concurrent_payments_loses_no_committed_payment_and_keeps_invoices_consistent()
    {
        const int invoiceTotal = 40_000, amount = 1_000;
        var (invoiceIds, token) = await PrepareAsync(async f =>
        {
            var ids = new List<int>();
            for (var i = 0; i < 4; i++)
            {
                var s = await f.Data.PatientAsync(status: InvoiceStatus.Draft);
                ids.Add(await f.WithDbAsync(async db =>
                {
                    var invoice = await db.Invoices.FindAsync(s.InvoiceId);
                    invoice!.Total = invoiceTotal;
                    db.InvoiceLines.Add(new InvoiceLine { InvoiceId = s.InvoiceId, Description = "IRM", UnitPrice = invoiceTotal, Total = invoiceTotal });
                    await db.SaveChangesAsync();
                    return s.InvoiceId;
                }));
            }
            return (ids, await f.Data.ApiTokenAsync(Roles.Accountant));
        });
        await using var server = await SiteServer.StartAsync(Data);

        using var http = new HttpClient { BaseAddress = new Uri(server.Address), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var committed = new System.Collections.Concurrent.ConcurrentBag<(int PaymentId, int InvoiceId)>();
        var unexpected = new System.Collections.Concurrent.ConcurrentBag<string>();
        var killAfter = Random.Shared.Next(15, 60);
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();

        async Task PayLoop()
        {
            while (!stop.IsCancellationRequested)
            {
                var invoiceId = invoiceIds[Random.Shared.Next(invoiceIds.Count)];
                HttpResponseMessage response;
                try
                {
                    response = await http.PostAsJsonAsync($"/api/invoices/{invoiceId}/payments/", new { amount, method = "cash" }, stop.Token);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    return; // the server is gone
                }
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    committed.Add((json.RootElement.GetProperty("payment_id").GetInt32(), invoiceId));
                    if (committed.Count >= killAfter) enough.TrySetResult();
                }
                else if (response.StatusCode is not (HttpStatusCode.BadRequest or HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable))
                    unexpected.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(PayLoop)).ToList();
        await enough.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await server.KillAsync();
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.Empty(unexpected);
        Assert.Equal("ok", Sqlite.IntegrityCheck(Database));
        Assert.Equal(0L, Scalar("SELECT COUNT(*) FROM pragma_foreign_key_check"));
        Assert.Equal(0L, Scalar("SELECT COUNT(*) FROM Payments p LEFT JOIN Invoices i ON i.Id = p.InvoiceId WHERE i.Id IS NULL"));
        foreach (var (paymentId, invoiceId) in committed)
            Assert.Equal(1L, Scalar($"SELECT COUNT(*) FROM Payments WHERE Id = {paymentId} AND InvoiceId = {invoiceId} AND Amount = {amount} AND ReversedAt IS NULL"));
        foreach (var id in invoiceIds)
        {
            var paid = Scalar($"SELECT COALESCE(SUM(Amount), 0) FROM Payments WHERE InvoiceId = {id} AND ReversedAt IS NULL");
            var status = (string)ScalarObject($"SELECT Status FROM Invoices WHERE Id = {id}");
            var expected = paid == invoiceTotal ? nameof(InvoiceStatus.Paid) : paid > 0 ? nameof(InvoiceStatus.Sent) : nameof(InvoiceStatus.Draft);
            Assert.True(expected == status, $"invoice {id}: {paid} FCFA paid but status {status}");
            Assert.True(paid <= invoiceTotal, $"invoice {id} overpaid: {paid}");
        }
        Assert.True(committed.Count >= killAfter);
    }

    private long Scalar(string sql) => Convert.ToInt64(ScalarObject(sql));

    private object ScalarObject(string sql)
    {
        using var connection = ReadOnly();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()!;
    }

    private List<(string, string)> Rows(string sql)
    {
        using var connection = ReadOnly();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<(string, string)>();
        while (reader.Read()) rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }

    private SqliteConnection ReadOnly()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private IEnumerable<string> ReportFiles()
    {
        var dir = Path.Combine(Data, "reports");
        return Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToList() : [];
    }

    /// <summary>A multipart upload (chunked) that sends a PDF header and some megabytes, then stalls until released.</summary>
    private sealed class StalledUpload : HttpContent
    {
        private readonly string _boundary = "----cimef" + Guid.NewGuid().ToString("N");
        private readonly string _invoiceNumber;
        private readonly int _sendBeforeStall;
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public StalledUpload(string invoiceNumber, int sendBeforeStall)
        {
            _invoiceNumber = invoiceNumber;
            _sendBeforeStall = sendBeforeStall;
            Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={_boundary}");
        }

        public Task Stalled => _stalled.Task;

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var head = $"--{_boundary}\r\nContent-Disposition: form-data; name=\"invoice_number\"\r\n\r\n{_invoiceNumber}\r\n" +
                       $"--{_boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nIRM interrompue\r\n" +
                       $"--{_boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"irm.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            var block = new byte[64 * 1024];
            Array.Fill(block, (byte)'A');
            for (var sent = 0; sent < _sendBeforeStall; sent += block.Length)
                await stream.WriteAsync(block);
            await stream.FlushAsync();
            _stalled.TrySetResult();
            await _release.Task;
            await stream.WriteAsync(block); // the server is gone by now: this fails, as a real client's upload would
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}

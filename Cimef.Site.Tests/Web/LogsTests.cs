using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Invoicing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Web;

/// <summary>
/// The site as a real process with <c>Logging:Format=json</c> at Debug level: every line is one JSON object carrying the
/// node's name, and a whole patient journey leaves neither the access key, nor the password, nor the report's bytes in
/// any line.
/// </summary>
public class LogsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cimef-log-tests", Guid.NewGuid().ToString("N"));
    private string Data => Path.Combine(_root, "data");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    /// <summary>One client per person: Bearer token or the patient's session cookie, sent by hand (it is Secure, the server is plain http).</summary>
    private static HttpClient Client(SiteServer server, string? bearer = null)
    {
        var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(server.Address) };
        if (bearer is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return http;
    }

    [Fact]
    public async Task Json_lines_carry_the_node_and_a_whole_patient_journey_logs_no_key_password_or_report_content()
    {
        Directory.CreateDirectory(Data);
        // The staff's API tokens are made in-process on the same data directory (and database), kept until the end:
        // disposing the factory drops a PostgreSQL test database.
        using var factory = new CimefFactory();
        factory.Settings["Storage:DataDirectory"] = Data;
        var secretaryToken = await factory.Data.ApiTokenAsync(Roles.Secretary);
        var accountantToken = await factory.Data.ApiTokenAsync(Roles.Accountant);
        var doctorToken = await factory.Data.ApiTokenAsync(Roles.Doctor);

        await using var server = await SiteServer.StartAsync(Data, new Dictionary<string, string>
        {
            ["Logging__Format"] = "json",
            ["Logging__LogLevel__Default"] = "Debug",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Debug",
            ["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Debug",
            ["Cluster__NodeName"] = "node-logs-7",
        }, keepLines: 1_000_000);

        var front = Client(server, secretaryToken);
        var patientId = await front.CreatePatientAsync("Mariama Logs", email: "mariama@example.sn");
        var invoice = await front.CreateInvoiceAsync(patientId, ("IRM-GEN", 1));
        var invoiceId = invoice.GetProperty("id").GetInt32();
        var pay = await Client(server, accountantToken).PostJsonAsync($"/api/invoices/{invoiceId}/payments/",
            new { amount = invoice.GetProperty("total").GetInt32(), method = "cash" });
        Assert.Equal(HttpStatusCode.Created, pay.StatusCode);
        var accessId = (await pay.JsonAsync()).GetProperty("invoice").GetProperty("patient_access_id").GetInt32();
        var credentials = await (await front.GetAsync($"/api/patients/access/{accessId}/")).JsonAsync();
        var key = credentials.GetProperty("access_key").GetString()!;
        var password = credentials.GetProperty("password").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await front.GetAsync($"/api/invoices/{invoiceId}/pdf/")).StatusCode);

        const string marker = "CONTENU-DU-COMPTE-RENDU-7F3A9C";
        var pdf = Encoding.ASCII.GetBytes($"%PDF-1.7\n% {marker}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
        var upload = await Client(server, doctorToken).PostAsync("/api/reports/", Multipart(new("invoice_number", invoice.GetProperty("invoice_number").GetString()),
            new("title", "IRM cérébrale"), new("file", FileName: "irm.pdf", Bytes: pdf)));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var reportId = (await upload.JsonAsync()).GetProperty("id").GetInt32();

        var patient = Client(server);
        Assert.Equal(HttpStatusCode.Unauthorized, (await patient.PostJsonAsync("/api/patients/portal/login/",
            new Dictionary<string, string> { ["access_key"] = key, ["password"] = password + "x" })).StatusCode);
        var login = await patient.PostJsonAsync("/api/patients/portal/login/", new Dictionary<string, string> { ["access_key"] = key, ["password"] = password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var session = login.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith("__Host-cimef_patient=", StringComparison.Ordinal));
        patient.DefaultRequestHeaders.Add("Cookie", session);
        Assert.Equal(HttpStatusCode.OK, (await patient.GetAsync("/api/reports/patient/")).StatusCode);
        var signedIn = await patient.GetAsync("/patient"); // the login page sends a signed-in patient to the dashboard
        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await patient.GetAsync(signedIn.Headers.Location)).StatusCode);
        var download = await patient.GetAsync($"/api/reports/download/{reportId}/");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(pdf, await download.Content.ReadAsByteArrayAsync());
        await server.StopAsync();

        var lines = server.Output.Where(l => l.Length > 0).ToList();
        Assert.True(lines.Count > 50, $"only {lines.Count} lines at Debug level");
        var requestLines = 0;
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line); // one object per line, nothing else on stdout/stderr
            var e = json.RootElement;
            Assert.Equal("node-logs-7", e.GetProperty("node").GetString());
            Assert.True(e.TryGetProperty("level", out _) && e.TryGetProperty("category", out _) && e.TryGetProperty("event_id", out _)
                && e.TryGetProperty("message", out _) && e.TryGetProperty("time", out _), line);
            if (e.TryGetProperty("trace_id", out var trace) && trace.GetString()!.Length == 32) requestLines++;
        }
        Assert.True(requestLines > 10, "requests' lines carry their trace id");

        var dashless = key.Replace("-", "");
        foreach (var line in lines)
        {
            Assert.DoesNotContain(key, line, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(dashless, line, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(password, line, StringComparison.Ordinal);
            Assert.DoesNotContain(marker, line, StringComparison.Ordinal);
        }
    }
}

using System.Text.RegularExpressions;
using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Cli;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Portal;

/// <summary>Patients with an access and reports, created directly through CimefDb + AccessProvisioning + ReportStore.</summary>
public static partial class PortalData
{
    public sealed record TestPatient(int PatientId, int AccessId, int InvoiceId, string Key, string Password, string FullName, string Phone);

    private static int _counter;

    public static async Task<TestPatient> CreatePatientAsync(this CimefFactory factory, string? name = null)
    {
        TestPatient? created = null;
        await factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            var provisioning = sp.GetRequiredService<AccessProvisioning>();
            var now = factory.Time.GetUtcNow().UtcDateTime;
            var n = Interlocked.Increment(ref _counter);
            var patient = new Patient
            {
                FullName = name ?? $"Aïssatou Ndiaye {n}",
                SearchName = $"aissatou ndiaye {n}",
                Phone = $"+22177{n:D7}",
                CreatedAt = now,
                CreatedBy = "test",
            };
            db.Patients.Add(patient);
            await db.SaveChangesAsync();
            var invoice = new Invoice
            {
                Number = await InvoiceNumbers.NextAsync(db, now.Year),
                Patient = patient,
                PatientId = patient.Id,
                Status = InvoiceStatus.Sent,
                Total = 25000,
                CreatedAt = now,
                CreatedBy = "test",
                IssuedAt = now,
                IssuedBy = "test",
                Lines = [new InvoiceLine { Description = "IRM du genou", Quantity = 1, UnitPrice = 25000, Total = 25000 }],
            };
            db.Invoices.Add(invoice);
            var access = await provisioning.EnsureForInvoiceAsync(invoice, null);
            await db.SaveChangesAsync();
            created = new TestPatient(patient.Id, access.Id, invoice.Id, access.AccessKey, provisioning.RevealPassword(access), patient.FullName, patient.Phone);
        });
        return created!;
    }

    /// <summary>Stores a PDF report for the patient and returns its id.</summary>
    public static async Task<int> AddReportAsync(this CimefFactory factory, TestPatient p, string title = "Compte rendu IRM du genou",
        byte[]? content = null, bool active = true, DateTime? createdAt = null, FileIntegrity integrity = FileIntegrity.Ok)
    {
        var id = 0;
        await factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            var store = sp.GetRequiredService<ReportStore>();
            var bytes = content ?? DemoSeed.MinimalPdf($"Compte rendu {p.FullName}");
            var stored = await store.SaveAsync(new MemoryStream(bytes), "pdf");
            var report = new PatientReport
            {
                PatientAccessId = p.AccessId,
                InvoiceId = p.InvoiceId,
                Title = title,
                StoredFileName = stored.StoredFileName,
                OriginalName = "cr.pdf",
                ContentType = "application/pdf",
                Size = stored.Size,
                Sha256 = stored.Sha256,
                CreatedAt = createdAt ?? factory.Time.GetUtcNow().UtcDateTime,
                CreatedBy = "medecin@cimef.test",
                IsActive = active,
                Integrity = integrity,
            };
            db.PatientReports.Add(report);
            await db.SaveChangesAsync();
            id = report.Id;
        });
        return id;
    }

    public static Task<T> DbAsync<T>(this CimefFactory factory, Func<CimefDb, Task<T>> work) => factory.WithDbAsync(work);

    /// <summary>Report list views are group-committed just after the response: wait for them before counting.</summary>
    public static Task FlushEventsAsync(this CimefFactory factory) => factory.Services.GetRequiredService<AccessEventBatch>().FlushAsync();

    public static async Task<int> EventCountAsync(this CimefFactory factory, string kind, int? accessId = null)
    {
        await factory.FlushEventsAsync();
        return await factory.WithDbAsync(db => db.AccessEvents.CountAsync(e => e.Kind == kind && (accessId == null || e.PatientAccessId == accessId)));
    }

    public static async Task<Dictionary<string, int>> EventCountsAsync(this CimefFactory factory)
    {
        await factory.FlushEventsAsync();
        return await factory.WithDbAsync(db => db.AccessEvents.GroupBy(e => e.Kind).ToDictionaryAsync(g => g.Key, g => g.Count()));
    }

    /// <summary>Runs <paramref name="action"/> and returns the AccessEvent kinds it added (kind → count).</summary>
    public static async Task<Dictionary<string, int>> EventsDuringAsync(this CimefFactory factory, Func<Task> action)
    {
        var before = await factory.EventCountsAsync();
        await action();
        var after = await factory.EventCountsAsync();
        return after.Select(kv => (kv.Key, Count: kv.Value - before.GetValueOrDefault(kv.Key))).Where(x => x.Count != 0)
            .ToDictionary(x => x.Key, x => x.Count);
    }

    /// <summary>Login through the page form (antiforgery included).</summary>
    public static Task<HttpResponseMessage> LoginFormAsync(this HttpClient client, string key, string password) =>
        client.PostFormAsync("/patient", new() { ["Input.AccessKey"] = key, ["Input.Password"] = password });

    public static Task<HttpResponseMessage> LoginJsonAsync(this HttpClient client, string key, string password) =>
        client.PostJsonAsync("/api/patients/portal/login/", new Dictionary<string, string> { ["access_key"] = key, ["password"] = password });

    /// <summary>A client signed in as <paramref name="p"/> (through the page form).</summary>
    public static async Task<HttpClient> PatientClientAsync(this CimefFactory factory, TestPatient p)
    {
        var client = factory.NewClient();
        var response = await client.LoginFormAsync(p.Key, p.Password);
        if ((int)response.StatusCode != 302) throw new InvalidOperationException($"Patient login failed: {(int)response.StatusCode}");
        return client;
    }

    /// <summary>The response body with HTML entities decoded (Razor encodes ' and + as entities).</summary>
    public static async Task<string> TextAsync(this HttpResponseMessage response) =>
        System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

    /// <summary>The raw session cookie value held by a client (for replay tests).</summary>
    public static string? SessionCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Select(v => SessionCookieRegex().Match(v)).FirstOrDefault(m => m.Success)?.Groups[1].Value
            : null;

    [GeneratedRegex("__Host-cimef_patient=([^;]+)")]
    private static partial Regex SessionCookieRegex();
}

using System.Security.Claims;
using Cimef.Site.Access;
using Cimef.Site.Cli;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>A patient seeded for a test: the invoice just made and, once it is sent or paid, the access and its credentials.</summary>
public sealed record TestPatient(int PatientId, string FullName, string Phone, int InvoiceId, string InvoiceNumber, int? AccessId, string Key, string Password);

/// <summary>
/// The one way tests seed rows (<c>factory.Data</c>): written through CimefDb and the same capabilities the features use
/// (AccessProvisioning, ReportStore, ApiTokens), every time taken from the factory's clock unless a test dates a row itself.
/// </summary>
public sealed class TestData(CimefFactory factory)
{
    private static int _counter;

    public static ClaimsPrincipal System => new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "tests")], "test"));

    private DateTime Now => factory.Time.GetUtcNow().UtcDateTime;

    /// <summary>A patient with one invoice of <paramref name="status"/>; Sent/Paid invoices get the patient's access (get-or-create).</summary>
    public Task<TestPatient> PatientAsync(string? name = null, InvoiceStatus status = InvoiceStatus.Sent, string? email = "patient@example.sn",
        string? phone = null, int total = 25000, DateTime? at = null) => factory.WithScopeAsync(async sp =>
    {
        var n = Interlocked.Increment(ref _counter);
        name ??= $"Aïssatou Ndiaye {n}";
        var patient = new Patient
        {
            FullName = name, SearchName = Text.SearchForm(name), Phone = phone ?? $"+22177{n:D7}", Email = email,
            CreatedAt = at ?? Now, CreatedBy = "tests",
        };
        var db = sp.GetRequiredService<CimefDb>();
        db.Patients.Add(patient);
        await db.SaveChangesAsync();
        return await AddInvoiceAsync(sp, patient, status, total, at);
    });

    /// <summary>Another invoice for the patient; the result carries its id (and the access, if the invoice is sent or paid).</summary>
    public Task<TestPatient> InvoiceAsync(TestPatient p, InvoiceStatus status, int total = 25000, DateTime? at = null) => factory.WithScopeAsync(async sp =>
        await AddInvoiceAsync(sp, await sp.GetRequiredService<CimefDb>().Patients.SingleAsync(x => x.Id == p.PatientId), status, total, at));

    private async Task<TestPatient> AddInvoiceAsync(IServiceProvider sp, Patient patient, InvoiceStatus status, int total, DateTime? at)
    {
        var db = sp.GetRequiredService<CimefDb>();
        var provisioning = sp.GetRequiredService<AccessProvisioning>();
        var when = at ?? Now;
        await using var tx = await db.Database.BeginTransactionAsync();
        var invoice = new Invoice
        {
            Number = await InvoiceNumbers.NextAsync(db, when.Year),
            Patient = patient, PatientId = patient.Id, Status = status, Total = total,
            CreatedAt = when, CreatedBy = "tests", IssuedAt = status == InvoiceStatus.Draft ? null : when, IssuedBy = status == InvoiceStatus.Draft ? null : "tests",
            Lines = [new InvoiceLine { Description = "IRM du genou", Quantity = 1, UnitPrice = total, Total = total }],
        };
        db.Invoices.Add(invoice);
        var access = status is InvoiceStatus.Sent or InvoiceStatus.Paid ? await provisioning.EnsureForInvoiceAsync(invoice, System) : null;
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return new TestPatient(patient.Id, patient.FullName, patient.Phone, invoice.Id, invoice.Number, access?.Id,
            access?.AccessKey ?? "", access is null ? "" : provisioning.RevealPassword(access));
    }

    /// <summary>Stores a report file (a small PDF unless <paramref name="content"/> is given) for the patient's invoice and returns its id.</summary>
    public Task<int> ReportAsync(TestPatient p, string title = "Compte rendu IRM du genou", byte[]? content = null, bool active = true,
        DateTime? createdAt = null, FileIntegrity integrity = FileIntegrity.Ok) => factory.WithScopeAsync(async sp =>
    {
        var db = sp.GetRequiredService<CimefDb>();
        var stored = await sp.GetRequiredService<ReportStore>().SaveAsync(new MemoryStream(content ?? DemoSeed.MinimalPdf($"Compte rendu {p.FullName}")), "pdf");
        var report = new PatientReport
        {
            PatientAccessId = p.AccessId ?? throw new InvalidOperationException("The patient has no access: seed a sent or paid invoice."),
            InvoiceId = p.InvoiceId, Title = title, StoredFileName = stored.StoredFileName, OriginalName = "cr.pdf",
            ContentType = "application/pdf", Size = stored.Size, Sha256 = stored.Sha256,
            CreatedAt = createdAt ?? Now, CreatedBy = "medecin@cimef.test", IsActive = active, Integrity = integrity,
        };
        db.PatientReports.Add(report);
        await db.SaveChangesAsync();
        return report.Id;
    });

    /// <summary>The access's current key and (decrypted) password.</summary>
    public Task<(string Key, string Password)> CredentialsAsync(int accessId) => factory.WithScopeAsync(async sp =>
    {
        var access = await sp.GetRequiredService<CimefDb>().PatientAccesses.SingleAsync(a => a.Id == accessId);
        return (access.AccessKey, sp.GetRequiredService<AccessProvisioning>().RevealPassword(access));
    });

    /// <summary>A Bearer token for a new staff member with <paramref name="role"/>, made as the CLI and the admin page make them.</summary>
    public async Task<string> ApiTokenAsync(string role, string name = "tests", int days = ApiTokens.DefaultDays)
    {
        var email = $"api-{Guid.NewGuid():N}@cimef.test";
        await factory.CreateStaffAsync(email, role);
        return await factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            var user = (await sp.GetRequiredService<UserManager<StaffUser>>().FindByEmailAsync(email))!;
            var token = ApiTokens.Create(db, user, name, days, Now, null, "tests");
            await db.SaveChangesAsync();
            return token;
        });
    }

    /// <summary>A client that calls the API with a new Bearer token for <paramref name="role"/>.</summary>
    public async Task<HttpClient> ApiClientAsync(string role)
    {
        var client = factory.NewClient();
        client.UseBearer(await ApiTokenAsync(role));
        return client;
    }
}

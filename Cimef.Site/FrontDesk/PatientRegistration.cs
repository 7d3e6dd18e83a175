using System.Security.Claims;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;

namespace Cimef.Site.FrontDesk;

/// <summary>
/// Registering a patient, for the front-desk page, the patients API and the demo seed: the row and its
/// patient.create audit (naming any possible duplicates) commit together.
/// </summary>
public sealed class PatientRegistration(CimefDb db, TimeProvider time)
{
    public async Task<(Patient Patient, List<PatientRules.Duplicate> Duplicates)> RegisterAsync(
        PatientRules.Cleaned clean, ClaimsPrincipal? by, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var duplicates = await PatientRules.FindDuplicatesAsync(db, clean, null, ct);
        var patient = new Patient
        {
            FullName = clean.FullName,
            SearchName = Text.SearchForm(clean.FullName),
            Phone = clean.Phone,
            Email = clean.Email,
            DateOfBirth = clean.DateOfBirth,
            Language = clean.Language,
            CreatedAt = now,
            CreatedBy = by?.Identity?.Name ?? "système",
        };
        // The seed registers inside its own transaction; everyone else gets one here.
        await using var tx = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        db.Patients.Add(patient);
        await db.SaveChangesAsync(ct);
        Audit.Staff(db, by, now, "patient.create", "Patient", patient.Id,
            duplicates.Count > 0 ? $"doublon possible de {string.Join(", ", duplicates.Select(d => d.Id))}" : null);
        await db.SaveChangesAsync(ct);
        if (tx is not null) await tx.CommitAsync(ct);
        return (patient, duplicates);
    }
}

public static class FrontDeskSetup
{
    /// <summary>The front desk and the billing desk: registering patients, invoices and their payments.</summary>
    public static IServiceCollection AddFrontDesk(this IServiceCollection services) => services
        .AddScoped<PatientRegistration>()
        .AddScoped<Invoicing.InvoiceWorkflow>();
}

using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Data;

/// <summary>Editable starter catalogue of common imaging exams with plausible Dakar prices (XOF).</summary>
public static class ExamCatalogue
{
    public static readonly Exam[] Starter =
    [
        new() { Code = "RX-THO", Name = "Radiographie du thorax (face)", Modality = "Radiographie", Price = 15000 },
        new() { Code = "RX-THO2", Name = "Radiographie du thorax (face + profil)", Modality = "Radiographie", Price = 20000 },
        new() { Code = "RX-BAS", Name = "Radiographie du bassin", Modality = "Radiographie", Price = 18000 },
        new() { Code = "RX-RAC", Name = "Radiographie du rachis lombaire", Modality = "Radiographie", Price = 25000 },
        new() { Code = "RX-GEN", Name = "Radiographie du genou", Modality = "Radiographie", Price = 15000 },
        new() { Code = "RX-SIN", Name = "Radiographie des sinus", Modality = "Radiographie", Price = 15000 },
        new() { Code = "PANO", Name = "Panoramique dentaire", Modality = "Radiographie dentaire", Price = 20000 },
        new() { Code = "ECHO-ABD", Name = "Échographie abdominale", Modality = "Échographie", Price = 25000 },
        new() { Code = "ECHO-PEL", Name = "Échographie pelvienne", Modality = "Échographie", Price = 25000 },
        new() { Code = "ECHO-OBS", Name = "Échographie obstétricale", Modality = "Échographie", Price = 25000 },
        new() { Code = "ECHO-THY", Name = "Échographie thyroïdienne", Modality = "Échographie", Price = 25000 },
        new() { Code = "ECHO-SEIN", Name = "Échographie mammaire", Modality = "Échographie", Price = 30000 },
        new() { Code = "DOPPLER", Name = "Écho-Doppler des membres inférieurs", Modality = "Échographie", Price = 45000 },
        new() { Code = "MAMMO", Name = "Mammographie bilatérale", Modality = "Mammographie", Price = 40000 },
        new() { Code = "HSG", Name = "Hystérosalpingographie", Modality = "Radiographie", Price = 50000 },
        new() { Code = "TDM-CER", Name = "Scanner cérébral", Modality = "Scanner (TDM)", Price = 75000 },
        new() { Code = "TDM-THO", Name = "Scanner thoracique", Modality = "Scanner (TDM)", Price = 90000 },
        new() { Code = "TDM-ABD", Name = "Scanner abdomino-pelvien", Modality = "Scanner (TDM)", Price = 110000 },
        new() { Code = "IRM-CER", Name = "IRM cérébrale", Modality = "IRM", Price = 150000 },
        new() { Code = "IRM-RAC", Name = "IRM du rachis lombaire", Modality = "IRM", Price = 150000 },
        new() { Code = "IRM-GEN", Name = "IRM du genou", Modality = "IRM", Price = 140000 },
    ];

    public static async Task EnsureStarterAsync(CimefDb db, CancellationToken ct = default)
    {
        if (await db.Exams.AnyAsync(ct)) return;
        db.Exams.AddRange(Starter.Select(e => new Exam { Code = e.Code, Name = e.Name, Modality = e.Modality, Price = e.Price, IsActive = true }));
        await db.SaveChangesAsync(ct);
    }
}
